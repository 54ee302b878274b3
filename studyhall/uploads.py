"""The upload → preview → confirm flow every importer shares, and the files it holds
between the steps.

1. **Upload** (``ImportFlow.start``): the file's bytes are read and planned (the importer
   reads them by content, through the guarded reader of ``spreadsheets.py`` or
   ``question_bank``); a file that could be read is kept under a random token.
2. **Preview** (``start``'s answer, then ``show`` for further pages): counts, the first
   problems and the first rows, paginated. Pages re-plan the kept file, so a preview
   page stays small whatever the file holds (never a page of megabytes).
3. **Confirm** (``confirm``): the file is loaded back by its token (only by the person
   who uploaded it, within ``KEEP_FOR``), planned again — the data may have changed since
   the preview — applied, and deleted.

The preview and the commit are separate requests, possibly on two workers or hosts, so the
upload is kept in the database rather than on one machine's disk.

An importer is a subclass that names its purpose, endpoints and template, and says how to
plan, when a plan may be confirmed and how to apply it (``org/routes_roster.py`` and
``bank/routes_files.py``); its routes are three one-line views.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.templating import ListPage

KEEP_FOR = timedelta(hours=6)
PROBLEMS_PER_PAGE = 50
#: The first key of the PostgreSQL advisory lock that makes confirmations of one kind of
#: import take turns (the second is the purpose's number in IMPORT_LOCKS).
IMPORT_LOCK_SPACE = 7202
IMPORT_LOCKS = {"roster": 1, "questions": 2}


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
    """Store an upload for later confirmation, dropping the owner's earlier one for the
    same purpose and everyone's expired ones."""
    db.session.execute(
        sa.delete(PendingUpload).where(
            sa.or_(PendingUpload.created_at < utcnow() - KEEP_FOR,
                   sa.and_(PendingUpload.owner_id == owner.id,
                           PendingUpload.purpose == purpose))
        )
    )
    upload = PendingUpload(token=secrets.token_urlsafe(32), owner_id=owner.id, purpose=purpose,
                           filename=filename[:255], content=content, options=options)
    db.session.add(upload)
    db.session.flush()
    return upload


def load_upload(owner, purpose: str, token: str) -> PendingUpload | None:
    """The owner's pending upload with this token, if it has not expired. A token with a
    NUL (read from request.form by hand, not through a Form) names none: PostgreSQL
    refuses NUL in text (a 500)."""
    if "\x00" in token:
        return None
    return db.session.scalar(
        sa.select(PendingUpload).where(
            PendingUpload.token == token,
            PendingUpload.owner_id == owner.id,
            PendingUpload.purpose == purpose,
            PendingUpload.created_at >= utcnow() - KEEP_FOR,
        )
    )


def page_of(items: Sequence, param: str, per_page: int) -> ListPage:
    """The page of ``items`` that the query parameter ``param`` asks for."""
    return ListPage(items, request.args.get(param, 1, type=int) or 1, per_page)


class ImportFlow:
    """Upload → preview → confirm for one importer. Subclasses set the class attributes
    and implement ``plan``, ``can_confirm``, ``apply`` and, for their lists, ``context``."""

    #: PendingUpload.purpose, e.g. "roster".
    purpose: str
    #: Endpoints of the upload form, the preview pages and the confirmation.
    upload_endpoint: str
    preview_endpoint: str
    confirm_endpoint: str
    preview_template: str
    confirm_form: type[ConfirmForm] = ConfirmForm

    def plan(self, content: bytes, filename: str, options: dict) -> Any:
        """Read the file and decide what would happen, writing nothing."""
        raise NotImplementedError

    def file_error(self, plan) -> str | None:
        """Why the file cannot be previewed at all (nothing is kept then)."""
        return plan.file_error

    def can_confirm(self, plan, form: ConfirmForm | None) -> bool:
        """Whether the plan may be applied; ``form`` is the submitted confirmation, or
        None when deciding whether to offer one."""
        raise NotImplementedError

    def apply(self, plan, form: ConfirmForm, upload: PendingUpload):
        """Write the plan; return the response (the upload is deleted afterwards)."""
        raise NotImplementedError

    def refused(self, plan, form: ConfirmForm) -> None:
        """Called when a confirmation is refused, e.g. to flash why."""

    def context(self, plan) -> dict:
        """Template variables for the preview: the pages of its lists."""
        return {}

    # --- the steps --------------------------------------------------------------------

    def start(self, file: FileStorage, **options):
        """Step 1: read the uploaded file, plan it, keep it if it can be read, show the
        first page of the preview."""
        content, filename = file.read(), file.filename or ""
        file.close()  # a large upload is spooled to a temporary file
        plan = self.plan(content, filename, options)
        token = None
        if self.file_error(plan) is None:
            token = keep_upload(current_user, self.purpose, filename, content, **options).token
        return self.render(plan, filename, token)

    def show(self, token: str):
        """Step 2, further pages: plan the kept file again and show the page asked for."""
        upload = load_upload(current_user, self.purpose, token)
        if upload is None:
            return self.expired()
        plan = self.plan(upload.content, upload.filename, upload.options)
        return self.render(plan, upload.filename, upload.token)

    def confirm(self):
        """Step 3: load the kept file, plan it again, apply it if it may be, delete it."""
        form = self.confirm_form()
        if not form.validate_on_submit():
            return self.expired()
        self._take_turn()
        upload = load_upload(current_user, self.purpose, form.token.data or "")
        if upload is None:
            return self.expired()
        plan = self.plan(upload.content, upload.filename, upload.options)
        if not self.can_confirm(plan, form):
            self.refused(plan, form)
            return self.render(plan, upload.filename, upload.token, form)
        response = self.apply(plan, form, upload)
        db.session.delete(upload)
        return response

    def _take_turn(self) -> None:
        """Confirmations of one kind of import take turns, and each reads the upload and
        plans after its turn came: a double click, or two importers confirming the same
        file at once, then find the upload gone or the rows already there (issue 12,
        item 5). SQLite: the request's write transaction (BEGIN IMMEDIATE) already holds
        the database. PostgreSQL: a transaction-scoped advisory lock; READ COMMITTED lets
        the statements after it see what the previous confirmation committed."""
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
                IMPORT_LOCK_SPACE, IMPORT_LOCKS[self.purpose])))

    def expired(self):
        flash(_("This import has expired or was already done. Upload the file again."),
              "error")
        return redirect(url_for(self.upload_endpoint))

    def render(self, plan, filename: str, token: str | None, form: ConfirmForm | None = None):
        confirm = None
        if token is not None and self.can_confirm(plan, None):
            confirm = form or self.confirm_form(token=token)
        return render_template(self.preview_template, plan=plan, filename=filename,
                               token=token, confirm=confirm, flow=self,
                               **(self.context(plan) if self.file_error(plan) is None else {}))

    def page_url(self, token: str, param: str, number: int) -> str:
        """A link to page ``number`` of the list ``param`` ("page", "problems"), keeping
        the other lists' pages; it lands on the list."""
        args = {**request.args.to_dict(), param: number, "token": token}
        return url_for(self.preview_endpoint, _anchor=param, **args)
