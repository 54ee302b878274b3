"""Model helpers every domain imports: the clock, enum columns, and the materialised path
with its one subtree rule (in SQL and in Python).

A unit or category path is ``"/1/4/9/"``: the ids from the root down, each followed by a
slash. Every node of the subtree of ``"/1/4/"`` has a path that starts with it, and in
byte order those paths sort from ``"/1/4/"`` up to, not including, ``"/1/40"`` ("0" is
the character after "/"). The SQL predicate is that range, so both SQLite and PostgreSQL
answer a subtree with one range scan of the path's index; the Python predicate is the
same rule for objects already loaded. Nothing else in the code spells the rule out.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement


def utcnow() -> datetime:
    """Now, in UTC, without a zone: every timestamp column stores naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_cls: type[enum.Enum], length: int) -> sa.Enum:
    """Store an enum by its value as a short string with a CHECK, the same on every database."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
        validate_strings=True,
    )


#: A materialised path ("/1/4/9/"), compared bytewise on PostgreSQL too so that the
#: subtree range below uses its index.
PATH_TYPE = sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _subtree_end(prefix):
    """The first path after the subtree of ``prefix``: "/1/4/" -> "/1/40". ``prefix`` is
    a string, or a path column (for a join on another row's subtree)."""
    if isinstance(prefix, str):
        return prefix[:-1] + "0"
    return sa.func.substr(prefix, 1, sa.func.length(prefix) - 1).concat("0")


def in_subtree(path_column, prefixes) -> ColumnElement[bool]:
    """SQL: ``path_column`` lies in the subtree of one of ``prefixes`` (the node included).

    ``prefixes`` is a list of path strings, one path string, or a path column (the
    subtree of each row's own path, for joins)."""
    if isinstance(prefixes, str) or not isinstance(prefixes, list | tuple | set | frozenset):
        prefixes = [prefixes]
    if not prefixes:
        return sa.false()
    return sa.or_(*(sa.and_(path_column >= p, path_column < _subtree_end(p)) for p in prefixes))


def path_in_subtree(path: str, prefixes) -> bool:
    """Python: ``path`` lies in the subtree of one of ``prefixes`` (one path string, or an
    iterable of them). The same rule as :func:`in_subtree`."""
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    return any(path.startswith(p) for p in prefixes)
