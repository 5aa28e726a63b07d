"""The object every authentication class puts on `request.auth`.

Permission checks read `request.auth.abilities` through this type, so no app needs to import
the authentication app to know what a token may do.
"""

from dataclasses import dataclass, field
from typing import Any

from athena_site.api.abilities import WILDCARD, ability_allows

ALL_ABILITIES = frozenset({WILDCARD})


@dataclass(frozen=True)
class AuthContext:
    """The authentication method of a request and the abilities its credentials grant.

    `method` is `session`, `multiplai`, `token` (personal access or service account token) or
    `oauth2`. `token` is the credential row when there is one (never its secret).
    """

    method: str
    abilities: frozenset[str] = ALL_ABILITIES
    token: Any = field(default=None, compare=False)

    def allows(self, required: str, *, object_id: object = None) -> bool:
        return ability_allows(self.abilities, required, object_id=object_id)


def request_abilities(request: Any) -> frozenset[str]:
    """Return the abilities of a DRF request; none when it is not authenticated."""
    auth = getattr(request, "auth", None)
    return getattr(auth, "abilities", frozenset())
