"""Models of the threads app."""
