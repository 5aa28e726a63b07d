"""Admin registrations of the agents app."""
