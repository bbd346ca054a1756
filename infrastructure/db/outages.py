"""Telling a database that is away (down, restarting, connection dropped) from a failing query.

A statement that fails because of its data (a constraint, a bad value) must not be retried as
is; one that failed because the server went away will succeed later. Callers answer the second
with `Unavailable` (503, retry later), as the idempotency store already did, instead of a 500.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes: 08 connection exception; 57 operator intervention (admin or crash
# shutdown, cannot connect now: the server is restarting, or a statement was cancelled).
UNREACHABLE_CLASSES = ("08", "57")


def unreachable(exc: BaseException, *, connecting: bool = False) -> bool:
    """True when `exc` says the database could not be reached or dropped the connection.

    While `connecting`, every driver error counts: no statement of ours ran yet (a database
    that refuses connections, e.g. being dropped or not accepting them, answers 55000)."""
    if isinstance(exc, OSError):  # refused or reset before SQLAlchemy wrapped anything
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if connecting:
        return True
    if exc.connection_invalidated or isinstance(exc, InterfaceError | OperationalError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(code, str) and code[:2] in UNREACHABLE_CLASSES
