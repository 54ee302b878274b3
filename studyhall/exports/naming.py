"""File names of exports: what, which unit, which day — in Chinese — and the
Content-Disposition header that carries such a name to every browser (RFC 6266 with an
RFC 5987 ``filename*``, plus a plain ASCII ``filename`` for old clients)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

#: Characters no file system or browser accepts in a name, and controls.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def file_name(*parts: str, day: date, suffix: str) -> str:
    """"党纪知识考试-成绩单-实验小学第一支部-2026-12-01.xlsx": parts joined by "-",
    unsafe characters replaced, each part at most 60 characters."""
    cleaned = [_UNSAFE.sub("_", part).strip(" ._")[:60] for part in parts if part]
    return "-".join([*cleaned, day.isoformat()]) + "." + suffix


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with the UTF-8 name percent-encoded (RFC 5987) and an ASCII
    ``fallback`` for clients that do not read ``filename*``."""
    ascii_name = fallback.encode("ascii", "ignore").decode("ascii").replace('"', "")
    return (f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")
