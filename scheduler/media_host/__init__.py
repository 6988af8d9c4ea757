"""Media hosts: where Meta fetches Instagram images from."""
