"""Workspace variables and secrets. Secret values are encrypted at rest and never logged."""

import logging
from typing import Any

from django.db import IntegrityError, transaction

from athena_site.api.errors import Conflict, ValidationFailed
from workspaces.models import Variable, Workspace

logger = logging.getLogger(__name__)


def _variable_exists() -> Conflict:
    return Conflict("A variable with this key already exists in the workspace.", code="variable_exists")


def variable_create(
    *, workspace: Workspace, key: str, value: str, secret: bool = False, description: str = "", created_by: Any
) -> Variable:
    """Create a variable; a secret's value goes to the encrypted column only.

    Raises Conflict (`variable_exists`) when the key is taken in the workspace.
    """
    variable = Variable(workspace=workspace, key=key, secret=secret, description=description, created_by=created_by)
    _set_value(variable, value)

    try:
        with transaction.atomic():
            variable.save()
    except IntegrityError:
        raise _variable_exists() from None

    logger.info(
        "Variable created",
        extra={"workspace_id": str(workspace.pk), "variable_key": key, "secret": secret},
    )
    return variable


def _set_value(variable: Variable, value: str) -> None:
    if variable.secret:
        variable.secret_value = value
        variable.value = ""
    else:
        variable.value = value
        variable.secret_value = None


def variable_update(*, variable: Variable, data: dict[str, Any]) -> Variable:
    """Change a variable's key, value, description or secrecy; only the keys present change.

    Turning a secret into a plain variable needs a new `value`, because the secret is never
    revealed. Making a plain variable secret moves its value into the encrypted column.
    """
    if "key" in data:
        variable.key = data["key"]
    if "description" in data:
        variable.description = data["description"]

    becomes_plain = variable.secret and data.get("secret") is False
    if becomes_plain and "value" not in data:
        raise ValidationFailed(errors={"value": ["A new value is required to turn a secret into a plain variable."]})
    if "secret" in data and data["secret"] != variable.secret:
        previous_value = variable.value
        variable.secret = data["secret"]
        if variable.secret and "value" not in data:
            _set_value(variable, previous_value)
    if "value" in data:
        _set_value(variable, data["value"])

    try:
        with transaction.atomic():
            variable.save()
    except IntegrityError:
        raise _variable_exists() from None

    logger.info(
        "Variable updated",
        extra={"workspace_id": str(variable.workspace_id), "variable_key": variable.key, "fields": sorted(data)},
    )
    return variable


def variable_delete(*, variable: Variable) -> None:
    """Delete a variable."""
    variable.delete()
    logger.info("Variable deleted", extra={"workspace_id": str(variable.workspace_id), "variable_key": variable.key})
