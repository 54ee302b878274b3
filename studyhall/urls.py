"""Where the site may send a browser after a form: only back into itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None. Browsers drop tabs and
    newlines and read a backslash as a slash, so "/\\t/evil.example" would leave the site:
    any control character, space or backslash is refused outright."""
    if not target or any(ord(c) < 0x21 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target


def carried_args(*keys: str) -> dict[str, str]:
    """The named query-string arguments of this request, to carry into another URL.
    Only named ones: spreading all of request.args into url_for lets a crafted query
    string collide with the view's own arguments (e.g. ?quiz_id=...)."""
    return {key: value for key, value in request.args.items() if key in keys}
