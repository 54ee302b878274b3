"""Evidence files of a session: photos (the original kept, a copy sized for the page) and
attachments (the notice, a scanned sign-in sheet, resolutions), stored as ``StoredFile``.

Every file is checked by its content, never by its name or the browser's word. Photos are
also opened with Pillow: a file that only starts like a JPEG is refused, and so is one
whose pixel count would take the server's memory (a "decompression bomb"). The page copy
is turned upright from the camera's orientation tag, at most PREVIEW_EDGE pixels on its
long side, and carries no EXIF (phones write the place a photo was taken there).

Saving by content hash, reading and serving are written here because the shared helpers
in studyhall/storage.py were not on main yet; they keep the same names and behaviour
(``save_file``, ``read_file``, ``file_response``) so they can be replaced by them.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

from flask import Response, current_app, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from studyhall.extensions import db
from studyhall.storage import StoredFile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG, JPEG, WEBP = "image/png", "image/jpeg", "image/webp"
PHOTO_TYPES = frozenset({PNG, JPEG, WEBP})
ATTACHMENT_TYPES = frozenset({PDF, DOCX, PNG, JPEG, WEBP})
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", PNG: ".png", JPEG: ".jpg", WEBP: ".webp"}
#: The page copy of a photo: its long side in pixels, and its JPEG quality.
PREVIEW_EDGE = 1280
PREVIEW_QUALITY = 82
#: Photos larger than this many pixels are refused before they are decoded (a 50 MP
#: phone camera is the largest real case).
MAX_PIXELS = 60_000_000
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class UploadError(ValueError):
    """A file refused; the message says why."""


def max_file_mb() -> float:
    return float(current_app.config.get("MAX_FILE_MB", 10))


def storage_dir() -> Path:
    configured = current_app.config.get("FILE_STORAGE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "files"


def sniff_type(data: bytes) -> str | None:
    """The type of a file from its first bytes (a DOCX from its zip directory)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04") and _is_docx(data):
        return DOCX
    return None


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False
    return "word/document.xml" in names and "[Content_Types].xml" in names


def clean_filename(name: str, content_type: str) -> str:
    """The uploader's name for display only, with the extension of what the file is."""
    base = re.split(r"[/\\]", name or "")[-1]
    stem = _UNSAFE_NAME.sub("_", base).strip(" ._")
    ext = EXTENSIONS[content_type]
    if stem.lower().endswith(ext) or (ext == ".jpg" and stem.lower().endswith(".jpeg")):
        stem = stem.rsplit(".", 1)[0].rstrip(" ._")
    return (stem[:200] or "file") + ext


def check_file(data: bytes, allowed: frozenset[str] = ATTACHMENT_TYPES) -> str:
    """The type of an upload found from its content.

    :raises UploadError: empty, too large, or not one of ``allowed``.
    """
    limit = max_file_mb()
    if not data:
        raise UploadError(_l("The file is empty."))
    if len(data) > limit * 1024 * 1024:
        raise UploadError(_l("The file is larger than %(mb)s MB.", mb=f"{limit:g}"))
    content_type = sniff_type(data)
    if content_type not in allowed:
        if allowed <= PHOTO_TYPES:
            raise UploadError(_l("This file is not a photo (JPEG, PNG or WebP), whatever "
                                 "its name says."))
        raise UploadError(_l("This file is not a PDF, a Word document (.docx) or a photo "
                             "(JPEG, PNG, WebP), whatever its name says."))
    return content_type


def save_file(data: bytes, filename: str, actor, *,
              allowed: frozenset[str] = ATTACHMENT_TYPES) -> StoredFile:
    """Check a file (``check_file``), store it by hash and describe it (flushed)."""
    content_type = check_file(data, allowed)
    digest = hashlib.sha256(data).hexdigest()
    path = _path_of(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    stored = StoredFile(sha256=digest, size=len(data), content_type=content_type,
                        filename=clean_filename(filename, content_type),
                        created_by_id=getattr(actor, "id", None))
    db.session.add(stored)
    db.session.flush()
    return stored


def _path_of(digest: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("not a SHA-256 digest")
    return storage_dir() / digest[:2] / digest


def read_file(stored: StoredFile) -> bytes:
    return _path_of(stored.sha256).read_bytes()


def file_response(stored: StoredFile, *, download: bool | None = None) -> Response:
    """Send a stored file to someone already checked: images in the page, documents as
    downloads, and nothing in it may run."""
    inline = stored.content_type in PHOTO_TYPES if download is None else not download
    response = send_file(_path_of(stored.sha256), mimetype=stored.content_type,
                         as_attachment=not inline, download_name=stored.filename,
                         conditional=True, etag=stored.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- Photos -------------------------------------------------------------------------------

def make_preview(data: bytes) -> bytes:
    """The page copy of a photo: upright, at most PREVIEW_EDGE on its long side, JPEG,
    no EXIF.

    :raises UploadError: Pillow cannot read it, or it has too many pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UploadError(_l("The photo has too many pixels (%(mp)d million at "
                                         "most).", mp=MAX_PIXELS // 1_000_000))
                image.load()
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE), Image.Resampling.LANCZOS)
                if upright.mode != "RGB":
                    # Transparent PNGs get a white page behind them.
                    rgba = upright.convert("RGBA")
                    upright = Image.new("RGB", rgba.size, "white")
                    upright.paste(rgba, mask=rgba.getchannel("A"))
                out = io.BytesIO()
                upright.save(out, "JPEG", quality=PREVIEW_QUALITY, optimize=True,
                             progressive=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError(_l("This photo cannot be read: it may be damaged.")) from exc
    return out.getvalue()


def save_photo(data: bytes, filename: str, actor) -> tuple[StoredFile, StoredFile]:
    """Keep the original photo as it came and a page copy; returns both (flushed)."""
    check_file(data, PHOTO_TYPES)
    preview = make_preview(data)  # read with Pillow before anything is stored
    original = save_file(data, filename, actor, allowed=PHOTO_TYPES)
    stem = original.filename.rsplit(".", 1)[0]
    page_copy = save_file(preview, f"{stem}-page.jpg", actor, allowed=PHOTO_TYPES)
    return original, page_copy
