"""Evidence files of a session: photos (the original kept, a copy sized for the page) and
attachments (the notice, a scanned sign-in sheet, resolutions), stored through
studyhall/storage.py (checked by content, kept by hash, served only after a check).

Photos are also decoded with Pillow: a file that only starts like a JPEG is refused, and
so is one whose pixel count would take the server's memory (a "decompression bomb"). The
page copy is turned upright from the camera's orientation tag, at most PREVIEW_EDGE
pixels on its long side, and carries no EXIF (phones write where a photo was taken).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from studyhall.i18n import lazy_gettext as _l
from studyhall.storage import (
    DOCX,
    JPEG,
    PDF,
    PNG,
    WEBP,
    StoredFile,
    UploadError,
    save_file,
    sniff_type,
)

PHOTO_TYPES = frozenset({PNG, JPEG, WEBP})
ATTACHMENT_TYPES = frozenset({PDF, DOCX, PNG, JPEG, WEBP})
#: The page copy of a photo: its long side in pixels, and its JPEG quality.
PREVIEW_EDGE = 1280
PREVIEW_QUALITY = 82
#: Photos larger than this many pixels are refused before they are decoded (a 50 MP
#: phone camera is the largest real case).
MAX_PIXELS = 60_000_000

__all__ = ["ATTACHMENT_TYPES", "PHOTO_TYPES", "UploadError", "make_preview",
           "save_attachment", "save_photo"]


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
    except UploadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError(_l("This photo cannot be read: it may be damaged.")) from exc
    return out.getvalue()


def save_photo(data: bytes, filename: str, actor) -> tuple[StoredFile, StoredFile]:
    """Keep the original photo as it came and a page copy; returns both (flushed).

    :raises UploadError: not a JPEG, PNG or WebP photo, unreadable, or too large.
    """
    if data and sniff_type(data) not in PHOTO_TYPES:
        raise UploadError(_l("This file is not a photo (JPEG, PNG or WebP), whatever its "
                             "name says."))
    preview = make_preview(data) if data else b""  # decoded before anything is stored
    original = save_file(data, filename, actor, allowed=PHOTO_TYPES)
    stem = original.filename.rsplit(".", 1)[0]
    page_copy = save_file(preview, f"{stem}-page.jpg", actor, allowed=PHOTO_TYPES)
    return original, page_copy


def save_attachment(data: bytes, filename: str, actor) -> StoredFile:
    """A PDF, a Word document or a photo, kept as it came.

    :raises UploadError: empty, too large or another type.
    """
    return save_file(data, filename, actor, allowed=ATTACHMENT_TYPES)
