"""Tools agents call: the registry of tool types and the built-in types."""
