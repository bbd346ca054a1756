"""Telling a database that is away (down, restarting, connection dropped) from a failing query.

A statement that fails because of its data (a constraint, a bad value) must not be retried as
is; one that failed because the server went away will succeed later. Callers answer the second
with `Unavailable` (503, retry later), as the idempotency store already did, instead of a 500.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# SQLSTATE classes: 08 connection exception; 57 operator intervention (admin or crash
# shutdown, cannot connect now: the server is restarting, or a statement was cancelled); and,
# only when connecting, 55 (a database that does not accept connections now, e.g. one being
# dropped or closed by ALTER DATABASE ... ALLOW_CONNECTIONS false).
UNREACHABLE_CLASSES = ("08", "57")
UNREACHABLE_AT_CONNECT = (*UNREACHABLE_CLASSES, "55")


def unreachable(exc: BaseException, *, connecting: bool = False) -> bool:
    """True when `exc` says the database could not be reached or dropped the connection
    (not, say, a missing table or database: those need an operator, not a retry)."""
    if isinstance(exc, OSError):  # refused or reset before SQLAlchemy wrapped anything
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # Not by class: SQLite's OperationalError also says "no such table", its InterfaceError a
    # bad parameter. SQLAlchemy marks a lost connection itself (its dialects' is_disconnect).
    if exc.connection_invalidated or isinstance(exc.orig, OSError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    classes = UNREACHABLE_AT_CONNECT if connecting else UNREACHABLE_CLASSES
    return isinstance(code, str) and code[:2] in classes
