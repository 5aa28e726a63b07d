"""Node types. Importing this package registers every built-in type."""

from workflows.nodes import actions, agent, llm, logic  # noqa: F401 (imported for their registrations)
from workflows.nodes.base import NodeType, node_type, node_types

__all__ = ["NodeType", "node_type", "node_types"]
