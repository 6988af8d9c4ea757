"""The HTML preview of a campaign: a calendar and each post as Facebook and Instagram show it."""

from campaign.preview.build import PreviewResult, build_preview, default_output_dir

__all__ = ["PreviewResult", "build_preview", "default_output_dir"]
