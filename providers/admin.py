"""Admin registrations of the providers app."""
