"""Grant and revoke shares of agents (and of other apps' objects, through the same model)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from agents.errors import PublicRunRateLimited
from agents.models import Share, hash_share_token, new_share_token
from athena_site.api.errors import ValidationFailed
from athena_site.cache import count_hit

logger = logging.getLogger(__name__)


def share_create(
    *, workspace_id: Any, target_type: str, target_id: Any, permission: str, created_by: Any, user: Any = None
) -> tuple[Share, str | None]:
    """Share a target with a user, or as a public link when `user` is None.

    Returns the share and, for a public link, its token, which is stored only as a hash and
    cannot be shown again. Sharing again with the same user updates the permission.
    """
    if user is not None:
        with transaction.atomic():
            share, _created = Share.objects.update_or_create(
                target_type=target_type,
                target_id=target_id,
                user=user,
                defaults={"permission": permission, "workspace_id": workspace_id, "created_by": created_by},
            )
        logger.info("Share granted", extra={"share_id": str(share.pk), "workspace_id": str(workspace_id)})
        return share, None

    token = new_share_token()
    try:
        share = Share.objects.create(
            workspace_id=workspace_id,
            target_type=target_type,
            target_id=target_id,
            permission=permission,
            token_hash=hash_share_token(token),
            token_prefix=token[:6],
            created_by=created_by,
        )
    except IntegrityError:
        raise ValidationFailed(errors={"public": ["The link could not be created. Try again."]}) from None
    logger.info("Public link created", extra={"share_id": str(share.pk), "workspace_id": str(workspace_id)})
    return share, token


def share_delete(*, share: Share) -> None:
    """Revoke a share: the grantee or the link holders lose access at once."""
    share_id = share.pk
    share.delete()
    logger.info("Share revoked", extra={"share_id": str(share_id)})


def public_link_rate_check(*, scope: str, token: str, limit: int, window: int) -> None:
    """Count one run of a public link in a fixed window of `window` seconds.

    Raises PublicRunRateLimited (429) with Retry-After beyond `limit` runs in the window.
    `scope` separates the counters of the kinds of link, such as `agents` and `workflows`.
    """
    now = time.time()
    slot = int(now // window)
    prefix = f"{scope}:public-run:{hash_share_token(token)}"
    count, _previous = count_hit(cache, f"{prefix}:{slot}", f"{prefix}:{slot - 1}", window + 1)
    if count > limit:
        retry_after = max(1, math.ceil((slot + 1) * window - now))
        raise PublicRunRateLimited(headers={"Retry-After": str(retry_after)})
