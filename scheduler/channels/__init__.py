"""One module per platform over one common interface (Facebook, Instagram, outbox)."""
