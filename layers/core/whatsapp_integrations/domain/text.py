"""Strings from outside that PostgreSQL will store. JSON can carry two things it refuses as `\\u` escapes: NUL (text
and jsonb take none) and a lone surrogate (it has no UTF-8 encoding). Either would fail the statement, and the
sender, answered 500, would retry the same post for days."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """An identifier with either can't be real: callers skip it."""
    return _UNSTORABLE.search(value) is None


def storable_text(value: str) -> str:
    """Free text keeps the rest, each such character replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)
