"""Admin registrations of the workspaces app."""
