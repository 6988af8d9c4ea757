"""Engagement: samples of each published post's counts, and the reviews made of them."""
