"""Branding: one JPEG per image and channel, cropped, colour-managed and marked.

``rendition`` makes one rendition from its inputs (a pure function of them);
``cache`` names renditions by a hash of those inputs; ``render_all`` renders a
campaign in parallel, redoing only what changed.
"""
