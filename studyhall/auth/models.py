"""What the server keeps about logins: one row per signed-in device, and the failed-login
counters when no Redis is configured."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from studyhall.extensions import db
from studyhall.model_helpers import utcnow


class LoginSession(db.Model):
    """A signed-in browser. Its random id is what the signed session cookie and the
    remember-me cookie carry, so deleting the row (logout) ends both, wherever they were
    copied. ``session_version`` is the person's at sign-in: a password change or a
    deactivation bumps the person's, which ends every session opened before."""

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    session_version: Mapped[int]
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Updated at most every few minutes (LOGIN_SESSION_TOUCH_SECONDS), never on every request.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")

    def __repr__(self) -> str:
        return f"<LoginSession {self.id[:6]}… person={self.person_id}>"


class LoginFailure(db.Model):
    """Failed logins counted in a fixed window, per account ("a:…") and per client address
    ("i:…"): shared by every worker and host on the same database."""

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    failures: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<LoginFailure {self.key} {self.failures} until {self.expires_at}>"
