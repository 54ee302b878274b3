"""Uploaded files: stored by content hash under instance/files/ (or a directory a
deployment names in FILE_STORAGE_DIR), described by a ``StoredFile`` row, and served only
through views that check who may see them — never by a guessable URL.

Materials, their text's images and sessions' photos and attachments use it.

A file is written before the request that stores it commits (its row is flushed after
it): the bytes on disk are all or nothing with the request's transaction. Each file this
transaction wrote is remembered on the session; when the transaction ends without a
commit (a later file refused, a rollback, an exception, the commit itself failing) the
files it wrote are removed again — unless a committed row of another request already
points at the same content, as files are kept by hash. A transaction that commits
makes sure every file its rows point at is on disk (another request's rollback may
have removed it meanwhile). Files orphaned by a killed process are found by
``flask --app studyhall sweep-files`` (see :func:`sweep`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Response, current_app, g, has_app_context, send_file
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
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


# --- Saving, sniffing and serving -------------------------------------------------------

PDF, DOCX = "application/pdf", \
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP})
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", PNG: ".png", JPEG: ".jpg", GIF: ".gif",
              WEBP: ".webp"}
#: A DOCX is a zip: refuse archives that would unpack to more than this, or whose
#: members are compressed suspiciously well (zip bombs), before reading any member.
DOCX_MAX_UNPACKED = 100 * 1024 * 1024
DOCX_MAX_RATIO = 200
DOCX_MAX_MEMBERS = 2000
#: Other names of an extension: a phone's "IMG_1.jpeg" stays "IMG_1.jpg", not ".jpeg.jpg".
_OTHER_EXTENSIONS = {".jpg": (".jpeg", ".jpe")}
#: Path separators, control characters and characters Windows refuses in names.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class UploadError(ValueError):
    """A file refused; the message says why."""


def max_file_mb() -> float:
    """The largest file kept (MAX_FILE_MB, 10 by default; requests are also capped by
    MAX_CONTENT_LENGTH)."""
    return float(current_app.config.get("MAX_FILE_MB", 10))


def storage_dir() -> Path:
    configured = current_app.config.get("FILE_STORAGE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "files"


def sniff_type(data: bytes) -> str | None:
    """The type of a file from its first bytes (and, for DOCX, its zip directory), or
    None when it is none of the types we accept. The name and the browser's word are
    never asked."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04") and _is_docx(data):
        return DOCX
    return None


def _is_docx(data: bytes) -> bool:
    """A zip holding word/document.xml, checked from its directory only: nothing is
    unpacked, so a zip bomb costs nothing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False
    if len(members) > DOCX_MAX_MEMBERS:
        return False
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > DOCX_MAX_UNPACKED or unpacked / packed > DOCX_MAX_RATIO:
        return False
    names = {m.filename for m in members}
    return "word/document.xml" in names and "[Content_Types].xml" in names


def clean_filename(name: str, content_type: str) -> str:
    """The uploader's name for display: no directories, no path or control characters,
    and the extension of what the file really is ("报告.pdf.exe" holding a PDF becomes
    "报告.pdf.pdf"; nothing on disk uses it)."""
    base = re.split(r"[/\\]", name or "")[-1]
    stem = _UNSAFE_NAME.sub("_", base).strip(" ._")
    ext = EXTENSIONS[content_type]
    for suffix in (ext, *_OTHER_EXTENSIONS.get(ext, ())):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)].rstrip(" ._")
            break
    return (stem[:200] or "file") + ext


def save_file(data: bytes, filename: str, actor, *, allowed=frozenset(EXTENSIONS)) -> StoredFile:
    """Check an upload by its content and size, store it by hash and describe it.

    :raises UploadError: too large, empty, or not one of ``allowed`` types.
    """
    limit = max_file_mb()
    if len(data) > limit * 1024 * 1024:
        raise UploadError(_l("The file is larger than %(mb)s MB.", mb=f"{limit:g}"))
    if not data:
        raise UploadError(_l("The file is empty."))
    content_type = sniff_type(data)
    if content_type is None or content_type not in allowed:
        raise UploadError(_l("This file is not a PDF, a Word document (.docx) or an image "
                             "(PNG, JPEG, GIF, WebP), whatever its name says."))
    digest = hashlib.sha256(data).hexdigest()
    path = _path_of(digest)
    written = not path.exists()
    if written:
        _write_whole(path, data)
    _remember(digest, path, data, written)
    stored = StoredFile(sha256=digest, size=len(data), content_type=content_type,
                        filename=clean_filename(filename, content_type),
                        created_by_id=getattr(actor, "id", None))
    db.session.add(stored)
    db.session.flush()
    return stored


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to a file of its own beside ``path``, then rename it into place: the
    path holds the whole file or nothing. A full disk (or any failed write) leaves no
    partial file and says so in the person's words."""
    scratch = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            scratch = handle.name
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    except OSError as exc:
        if scratch is not None:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
        current_app.logger.error("Could not store an uploaded file in %s: %s",
                                 path.parent, exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise UploadError(_l("The server's disk is full: the file was not saved. "
                                 "Nothing else was changed; tell the administrator.")) from exc
        raise UploadError(_l("The server could not store the file; nothing was saved. "
                             "Please try again later.")) from exc


def _path_of(digest: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", digest):  # never a path from elsewhere
        raise ValueError("not a SHA-256 digest")
    return storage_dir() / digest[:2] / digest


def read_file(stored: StoredFile) -> bytes:
    return _path_of(stored.sha256).read_bytes()


def file_response(stored: StoredFile, *, personal: bool = False) -> Response:
    """Send a stored file to someone the caller has checked may see it. Images open in
    the page; PDFs and documents download. The type is the one found from the content,
    the browser may not guess another, and the response may run nothing.

    A study material may stay in the browser's cache and is revalidated by its ETag
    (a phone reads it again without downloading it again). A ``personal`` file (a
    session's sign-in sheet, its photos) is kept by no cache, like every built export:
    a school office's computer is shared."""
    inline = stored.content_type in IMAGE_TYPES
    response = send_file(_path_of(stored.sha256), mimetype=stored.content_type,
                         as_attachment=not inline, download_name=stored.filename,
                         conditional=True, etag=stored.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store" if personal \
        else "private, no-cache"
    return response


# --- All or nothing with the transaction ------------------------------------------------

_PENDING = "studyhall.storage.pending"


def _remember(digest: str, path: Path, data: bytes, written: bool) -> None:
    """Note on the session that this transaction stores ``digest``, and whether it wrote
    the file itself (then it is removed again if the transaction does not commit)."""
    pending = db.session().info.setdefault(_PENDING, {})
    known = pending.get(digest)
    pending[digest] = (path, data, written or (known is not None and known[2]))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the files wait for the transaction itself
    pending = session.info.pop(_PENDING, None)
    for path, data, _written in (pending or {}).values():
        # Committed rows point here: a rollback elsewhere may have removed the file
        # between our write (or our finding it) and the commit; put it back.
        if not path.exists():
            try:
                _write_whole(path, data)
            except UploadError:
                _log_error("A committed file could not be written back to %s", path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    pending = session.info.pop(_PENDING, None)  # still there: not committed
    written = {digest: (path, data) for digest, (path, data, wrote)
               in (pending or {}).items() if wrote}
    if written:
        _remove_uncommitted(written)


def _remove_uncommitted(written: dict[str, tuple[Path, bytes]]) -> None:
    """Remove the files a transaction wrote and did not commit. Removed first, then the
    database asked whether a committed row (another request's, storing the same content
    meanwhile) points at one: that one is written back. A request committing after the
    question puts its file back itself (``_after_commit``), so no row is left without
    its file, whatever the order."""
    for path, _data in written.values():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    try:
        kept = _committed_digests(list(written))
    except sa.exc.SQLAlchemyError:  # the database cannot say: keep them all
        kept = set(written)
    for digest in kept:
        path, data = written[digest]
        if not path.exists():
            try:
                _write_whole(path, data)
            except UploadError:
                _log_error("A file a committed row points at could not be written back "
                           "to %s", path)


@contextlib.contextmanager
def _reading():
    """The check above only reads: on SQLite its transaction begins deferred, even in a
    POST request (database.py's BEGIN IMMEDIATE is for the request's own writes)."""
    if not has_app_context():
        yield
        return
    before = g.get("read_only")
    g.read_only = True
    try:
        yield
    finally:
        if before is None:
            g.pop("read_only", None)
        else:
            g.read_only = before


def _log_error(message: str, *args) -> None:
    if has_app_context():
        current_app.logger.error(message, *args)


# --- Files no row points to ---------------------------------------------------------------

#: Files younger than this are left alone by the sweep: a request may be writing them.
SWEEP_MIN_AGE_SECONDS = 3600


def sweep(*, dry_run: bool = False, min_age: float = SWEEP_MIN_AGE_SECONDS
          ) -> list[tuple[Path, int]]:
    """The files in the storage folder that no ``StoredFile`` row points to and that are
    older than ``min_age`` seconds (a killed process's file, or a scratch file it was
    writing), with their sizes; removed unless ``dry_run``.

    A request may commit a row for one of them (finding the old file there, so not
    writing it) after the rows were listed: so a file is first set aside, then the
    database asked again, and a file a row now points at is put back. A row committing
    after that question finds its file missing and writes it back (``_after_commit``)."""
    root = storage_dir()
    if not root.is_dir():
        return []
    known = _committed_digests(None)
    cutoff = time.time() - min_age
    found = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if name in known and path == _path_of(name):
                continue
            if info.st_mtime > cutoff:
                continue
            found.append((path, info.st_size))
    if dry_run or not found:
        return sorted(found)
    aside = {}
    for path, _size in found:
        moved = path.with_name(path.name + ".sweeping")
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, moved)
            aside[path] = moved
    now_known = _committed_digests([path.name for path in aside])
    removed = []
    for path, size in found:
        moved = aside.get(path)
        if moved is None:
            continue
        if path.name in now_known and path == _path_of(path.name):
            os.replace(moved, path)  # committed meanwhile: it stays
            continue
        with contextlib.suppress(FileNotFoundError):
            moved.unlink()
        removed.append((path, size))
    return sorted(removed)


def _committed_digests(names: list[str] | None) -> set[str]:
    """The contents committed rows point at (among ``names``, when given), read on a
    connection of its own so that what other requests committed a moment ago counts."""
    query = sa.select(StoredFile.sha256).distinct()
    if names is not None:
        query = query.where(StoredFile.sha256.in_(names))
    with _reading(), db.engine.connect() as connection:
        return set(connection.scalars(query))
