"""Uploaded files: stored by content hash under instance/files/ (or a directory a
deployment names in FILE_STORAGE_DIR), described by a ``StoredFile`` row, and served only
through views that check who may see them — never by a guessable URL.

Materials use it now; session minutes, sign-in sheets and photos will use it next."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from studyhall.extensions import db
from studyhall.model_helpers import utcnow


class StoredFile(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hex SHA-256 of the content: the name on disk, so one content is stored once.
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int]
    #: The type found from the content (magic bytes), never the one the browser sent.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    #: The name the uploader gave, cleaned of path characters; shown, never used on disk.
    filename: Mapped[str] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.filename!r} {self.content_type}>"
