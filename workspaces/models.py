"""Models of the workspaces app."""
