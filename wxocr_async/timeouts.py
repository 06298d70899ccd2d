"""Timeouts as the client takes them: seconds, None (no limit), or not given (the client's
own)."""

from __future__ import annotations

import enum
from typing import TypeAlias

from .errors import InvalidInput
from .limits import check_positive_number

#: seconds for each HTTP request, unless the client is given another
DEFAULT_TIMEOUT = 30.0


class NotGiven(enum.Enum):
    """Marks an argument that was not passed, so that ``None`` can mean "no timeout"."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN
Timeout: TypeAlias = "float | NotGiven | None"


def check_timeout(timeout: object) -> float | None:
    """``timeout`` if it is None or a positive finite number of seconds."""
    if timeout is None:
        return None
    try:
        return check_positive_number("timeout (seconds)", timeout)
    except InvalidInput:
        raise InvalidInput(
            f"timeout must be a positive finite number of seconds or None, not {timeout!r}"
        ) from None


def resolve_timeout(timeout: Timeout, default: float | None) -> float | None:
    """A call's ``timeout=``: ``default`` when not given, else checked."""
    if timeout is NOT_GIVEN:
        return default
    return check_timeout(timeout)
