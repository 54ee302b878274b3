"""The audit trail: every change of a score, a role, a password reset or a deadline
leaves an entry (ARCHITECTURE.md, invariant 9)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from studyhall.extensions import db
from studyhall.model_helpers import utcnow


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    #: What happened, as a dotted name: "person.role", "person.password_reset", ...
    action: Mapped[str] = mapped_column(sa.String(50))
    target_type: Mapped[str] = mapped_column(sa.String(30))
    target_id: Mapped[int] = mapped_column()
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.Index("ix_audit_entry_target", "target_type", "target_id"),)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target_type}:{self.target_id}>"


#: The target type of an entry about no one object (an import, an export of a whole
#: scope): such an entry is seen by whoever may see its actor.
NO_TARGET = ""


def record(actor, action: str, target, **details) -> AuditEntry:
    """Add an audit entry for ``target`` (a model instance with an id, or None for an
    action on no one object); flushes nothing. Entries are never changed or deleted by
    the app: the audit log page (studyhall/audit_log) only reads them."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=NO_TARGET if target is None else type(target).__name__.lower(),
        target_id=0 if target is None else target.id,
        details=details,
    )
    db.session.add(entry)
    return entry


def record_apart(actor, action: str, target, **details) -> None:
    """Write an audit entry in a short transaction of its own, committed at once: for an
    export, after its file is complete (cli.py, exports/jobs.py).

    The export's read transaction is ended first (rolled back: it only read) and the
    entry is written in a fresh write transaction (BEGIN IMMEDIATE on SQLite, which waits
    its turn on the busy timeout). Written inside the read transaction instead, on
    SQLite it fails at once with "database is locked" whenever anyone else has committed
    since the read began (a running exam saves all the time): a WAL reader cannot become
    a writer on a stale snapshot. The caller's read-only mark is kept for what follows.
    Raises if the entry cannot be written; nothing else is committed with it."""
    from flask import g, has_request_context

    target_type = NO_TARGET if target is None else type(target).__name__.lower()
    target_id = 0 if target is None else target.id
    actor_id = getattr(actor, "id", None)
    db.session.rollback()
    was_read_only, was_writing = g.pop("read_only", None), g.get("writes")
    if has_request_context():
        g.writes = True
    try:
        db.session.add(AuditEntry(actor_id=actor_id, action=action, target_type=target_type,
                                  target_id=target_id, details=details))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if was_read_only:
            g.read_only = True
        if has_request_context() and not was_writing:
            g.pop("writes", None)
