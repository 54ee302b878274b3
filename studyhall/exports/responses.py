"""How a file the app builds reaches the browser: an attachment under its Chinese name
(naming.py), never kept by a cache.

What is built here holds personal data (names, accounts, phone numbers, scores,
attendance, the audit log) or exam questions, and a school office's computer is often
shared: ``private, no-store`` keeps the file out of the browser's cache and any proxy's,
so the next person at the desk cannot open it from there. (Uploaded files are served by
storage.file_response, revalidated each time.)"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable

from flask import Response, send_file, stream_with_context

from studyhall.exports.naming import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = "private, no-store"


def as_download(response: Response, name: str | None = None,
                fallback: str | None = None) -> Response:
    """``response`` kept by no cache, and named ``name`` (with an ASCII ``fallback``)
    when given; otherwise it keeps the name send_file gave it."""
    if name is not None:
        response.headers["Content-Disposition"] = content_disposition(name, fallback or name)
    response.headers["Cache-Control"] = NO_STORE
    return response


def send_download(source, mimetype: str, name: str, fallback: str | None = None) -> Response:
    """A file (a path, or a binary file object read from where it stands) as a download."""
    return as_download(send_file(source, mimetype=mimetype, as_attachment=True,
                                 download_name=fallback or name), name, fallback)


def send_xlsx(build: Callable[[object], None], name: str, fallback: str) -> Response:
    """Build a workbook into a temporary file (on disk, not in memory) and send it; the
    response closes the file once sent, which deletes it."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response
    try:
        build(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return send_download(handle, XLSX, name, fallback)


def send_csv(chunks: Iterable[bytes], name: str, fallback: str) -> Response:
    """A CSV file streamed as its chunks are made (in the request's context)."""
    return as_download(Response(stream_with_context(chunks), mimetype="text/csv"),
                       name, fallback)
