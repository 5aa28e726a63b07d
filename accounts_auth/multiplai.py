"""Multiplai identity: validate a Multiplai token and create or update the matching Athena user.

Multiplai responds to `GET {MULTIPLAI_API_URL}/api/user` with the bearer token as
`{id, name, email, avatar_url, organizations: [{id, name, role}]}`. A successful validation
is cached for MULTIPLAI_CACHE_SECONDS under a SHA-256 of the token, never the token itself.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts_auth.models import User
from athena_site.api.errors import Conflict
from athena_site.http import OutboundRequestBlocked, guarded_session

logger = logging.getLogger(__name__)

MAX_ORGANIZATIONS = 200


class MultiplaiInvalidToken(Exception):
    """Multiplai rejected the token."""


class MultiplaiUnavailable(Exception):
    """Multiplai could not be reached, timed out or returned a response outside its contract."""


@dataclass(frozen=True)
class MultiplaiIdentity:
    id: str
    email: str
    name: str = ""
    avatar_url: str = ""
    organizations: list[dict[str, str]] = field(default_factory=list)


def _cache_key(token: str) -> str:
    return "multiplai:identity:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse_identity(payload: Any) -> MultiplaiIdentity:
    if not isinstance(payload, dict):
        raise MultiplaiUnavailable("Multiplai returned a body that is not a JSON object.")
    user_id, email = payload.get("id"), payload.get("email")
    if user_id in (None, "") or not isinstance(email, str) or "@" not in email:
        raise MultiplaiUnavailable("Multiplai returned a user without an id or email.")
    organizations = []
    raw_organizations = payload.get("organizations") or []
    if not isinstance(raw_organizations, list):
        raise MultiplaiUnavailable("Multiplai returned organizations that are not a list.")
    for organization in raw_organizations[:MAX_ORGANIZATIONS]:
        if isinstance(organization, dict) and organization.get("id") not in (None, ""):
            organizations.append(
                {
                    "id": str(organization["id"])[:64],
                    "name": str(organization.get("name") or organization["id"])[:120],
                    "role": str(organization.get("role") or "member")[:32],
                }
            )
    return MultiplaiIdentity(
        id=str(user_id)[:64],
        email=email.strip().lower()[:254],
        name=str(payload.get("name") or "")[:150],
        avatar_url=str(payload.get("avatar_url") or "")[:500],
        organizations=organizations,
    )


def multiplai_identity_fetch(*, token: str) -> tuple[MultiplaiIdentity, bool]:
    """Validate `token` with Multiplai, using the cache for recent successes.

    Returns the identity and whether it was fetched now (False when it came from the cache).
    Raises MultiplaiInvalidToken when Multiplai rejects it and MultiplaiUnavailable when Multiplai
    is not configured, unreachable, slow or responds outside its contract.
    """
    key = _cache_key(token)
    cached = cache.get(key)
    if cached:
        return MultiplaiIdentity(**cached), False
    base_url = settings.MULTIPLAI_API_URL
    if not base_url:
        raise MultiplaiUnavailable("MULTIPLAI_API_URL is not set.")

    try:
        with guarded_session(timeout=settings.MULTIPLAI_TIMEOUT_SECONDS) as session:
            response = session.get(
                f"{base_url}/api/user",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                allow_redirects=False,
            )
            status, body = response.status_code, response.content
    except (requests.RequestException, OutboundRequestBlocked) as exc:
        logger.warning("Multiplai request failed: %s", type(exc).__name__)
        raise MultiplaiUnavailable("Multiplai could not be reached.") from exc

    if status in (401, 403):
        raise MultiplaiInvalidToken("Multiplai rejected the token.")
    if status != 200:
        logger.warning("Multiplai responded with status %s", status)
        raise MultiplaiUnavailable(f"Multiplai responded with status {status}.")
    try:
        identity = _parse_identity(json.loads(body))
    except ValueError as exc:
        logger.warning("Multiplai returned a body that is not JSON (%s bytes)", len(body))
        raise MultiplaiUnavailable("Multiplai returned a body that is not JSON.") from exc

    cache.set(key, asdict(identity), timeout=settings.MULTIPLAI_CACHE_SECONDS)
    return identity, True


def multiplai_user_sync(*, identity: MultiplaiIdentity) -> User:
    """Find or create the Athena user for a Multiplai identity and copy Multiplai's data onto it.

    Multiplai's data wins conflicts and the email counts as verified. An existing user with the
    same email is linked only when MULTIPLAI_LINK_BY_EMAIL is on and that user's email is
    verified too; otherwise Conflict (409 `multiplai_email_conflict`).
    """
    try:
        with transaction.atomic():
            return _sync(identity)
    except IntegrityError:
        # A concurrent request created the same user first; the second attempt finds it.
        with transaction.atomic():
            return _sync(identity)


def _sync(identity: MultiplaiIdentity) -> User:
    user = User.objects.select_for_update().filter(multiplai_id=identity.id).first()
    same_email = User.objects.filter(email__iexact=identity.email).exclude(multiplai_id=identity.id).first()
    if user is None and same_email is not None:
        if not (settings.MULTIPLAI_LINK_BY_EMAIL and same_email.email_verified):
            raise Conflict(
                "A different Athena account already uses this email address.", code="multiplai_email_conflict"
            )
        user = same_email
    elif user is not None and same_email is not None:
        raise Conflict("A different Athena account already uses this email address.", code="multiplai_email_conflict")

    if user is None:
        user = User(multiplai_id=identity.id, email=identity.email)
        user.set_unusable_password()
    user.multiplai_id = identity.id
    user.email = identity.email
    user.name = identity.name or user.name
    user.avatar_url = identity.avatar_url if identity.avatar_url.startswith(("https://", "http://")) else ""
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.multiplai_organizations = identity.organizations
    user.save()
    return user
