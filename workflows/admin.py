"""Admin registrations of the workflows app."""
