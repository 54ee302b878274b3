"""Security and caching headers on every response. The Content-Security-Policy allows no
inline script, so all behaviour lives in studyhall/static/js/."""

from __future__ import annotations

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: A static URL that carries its file's current content hash never changes meaning.
LONG_CACHE = "public, max-age=31536000, immutable"


def _cache_static(response) -> None:
    """Versioned static files (?v=<hash> of the file now served, see templating.py) are
    cached for a year; any other static request is revalidated each time."""
    from studyhall.templating import static_version

    filename = (request.view_args or {}).get("filename")
    if response.status_code in (200, 304) and filename and \
            request.args.get("v") == static_version(filename):
        response.headers["Cache-Control"] = LONG_CACHE
        response.headers.pop("Expires", None)
    else:
        response.headers["Cache-Control"] = "no-cache"


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint == "static":
            _cache_static(response)
        return response
