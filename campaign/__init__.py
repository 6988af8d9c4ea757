"""The content side of the campaign scheduler: config, posts, rules, branding.

No network and no database here; the runtime lives in ``scheduler``.
"""

__version__ = "0.1.0"
