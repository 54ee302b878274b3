"""Files held between an import's preview and its confirmation.

The preview and the commit are two requests, possibly on two workers or hosts, so the
upload is kept in the database rather than on one machine's disk."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from studyhall.extensions import db
from studyhall.model_helpers import utcnow

KEEP_FOR = timedelta(hours=6)


class PendingUpload(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"),
                                          index=True)
    #: Which importer it is for: "roster", "questions".
    purpose: Mapped[str] = mapped_column(sa.String(20))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PendingUpload {self.id} {self.purpose} {self.filename!r}>"


def keep_upload(owner, purpose: str, filename: str, content: bytes, **options) -> PendingUpload:
    """Store an upload for later confirmation, dropping the owner's stale ones."""
    db.session.execute(
        sa.delete(PendingUpload).where(
            sa.or_(PendingUpload.created_at < utcnow() - KEEP_FOR,
                   sa.and_(PendingUpload.owner_id == owner.id,
                           PendingUpload.purpose == purpose))
        )
    )
    upload = PendingUpload(token=secrets.token_urlsafe(32), owner_id=owner.id, purpose=purpose,
                           filename=filename, content=content, options=options)
    db.session.add(upload)
    return upload


def load_upload(owner, purpose: str, token: str) -> PendingUpload | None:
    """The owner's pending upload with this token, if it has not expired."""
    return db.session.scalar(
        sa.select(PendingUpload).where(
            PendingUpload.token == token,
            PendingUpload.owner_id == owner.id,
            PendingUpload.purpose == purpose,
            PendingUpload.created_at >= utcnow() - KEEP_FOR,
        )
    )
