"""Admin registrations of the threads app."""
