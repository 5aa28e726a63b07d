"""The list of token abilities and the matcher every permission check uses.

An ability is `*`, `<group>:*`, `<group>:<action>`, or `<group>:<action>:<uuid>` for one object.
"""

import uuid
from collections.abc import Iterable

WILDCARD = "*"

# Group -> the actions a token can be granted on it. Apps add their groups here, not elsewhere.
ABILITY_GROUPS: dict[str, tuple[str, ...]] = {
    "agents": ("read", "write", "run", "delete"),
    "prompts": ("read", "write", "run", "delete"),
    "memories": ("read", "write", "delete"),
    "threads": ("read", "write", "run", "delete"),
    "workflows": ("read", "write", "run", "delete"),
    "executions": ("read", "write", "delete"),
    "providers": ("read", "write", "delete"),
    "accounts": ("read", "write", "delete"),
    "workspaces": ("read", "write", "delete"),
    "members": ("read", "write", "delete"),
    "tokens": ("read", "write", "delete"),
}


def all_abilities() -> list[str]:
    """List every concrete `<group>:<action>` ability, for documentation and scope lists."""
    return [f"{group}:{action}" for group, actions in ABILITY_GROUPS.items() for action in actions]


def validate_ability(ability: str) -> str:
    """Return the ability unchanged, or raise ValueError saying why it is not a known ability."""
    if ability == WILDCARD:
        return ability
    parts = ability.split(":")
    if len(parts) not in (2, 3) or parts[0] not in ABILITY_GROUPS:
        raise ValueError(f"'{ability}' is not a known ability; use '*', '<group>:*' or '<group>:<action>'.")
    group, action = parts[0], parts[1]
    if action == WILDCARD and len(parts) == 2:
        return ability
    if action not in ABILITY_GROUPS[group]:
        raise ValueError(f"'{action}' is not an action of '{group}'; use one of {', '.join(ABILITY_GROUPS[group])}.")
    if len(parts) == 3:
        try:
            uuid.UUID(parts[2])
        except ValueError:
            raise ValueError(f"'{parts[2]}' in '{ability}' is not a valid object id.") from None
    return ability


def ability_allows(abilities: Iterable[str], required: str, *, object_id: object = None) -> bool:
    """Tell whether `abilities` grant `required` (`<group>:<action>`), optionally on one object.

    An object ability (`agents:run:<uuid>`) grants the action on that object only, so it never
    satisfies a check made without an object id (such as listing or creating).
    """
    group, _, action = required.partition(":")
    granted = set(abilities)
    if WILDCARD in granted or f"{group}:{WILDCARD}" in granted or required in granted:
        return True
    if object_id is None:
        return False
    return f"{group}:{action}:{str(object_id).lower()}" in {item.lower() for item in granted}
