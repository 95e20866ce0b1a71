"""The I/O-free protocol core: flows are generators that yield requests and receive responses."""
