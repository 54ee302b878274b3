"""Static files carry their content hash in the URL and are cached for a year under that
URL; pages and static files are compressed for clients that accept it."""

import gzip
import re
from pathlib import Path

import pytest

from studyhall.templating import content_version

STATIC = Path(__file__).resolve().parents[2] / "studyhall" / "static"


def _version(name: str) -> str:
    return content_version((STATIC / name).read_bytes())


def _get(client, url, **kwargs):
    """Read a reply whole and close it (a static file is sent from an open file)."""
    reply = client.get(url, **kwargs)
    reply.get_data()
    reply.close()
    return reply


def test_pages_link_static_files_by_their_content_hash(client):
    page = client.get("/login").get_data(as_text=True)
    for name in ("css/app.css", "js/app.js", "favicon.svg"):
        assert f"/static/{name}?v={_version(name)}" in page
    assert not re.search(r'/static/[^"?]+"', page)  # no unversioned static URL


@pytest.mark.parametrize("name", ["css/app.css", "js/attempt.js"])
def test_a_versioned_static_file_is_cached_for_a_year(client, name):
    reply = _get(client, f"/static/{name}?v={_version(name)}")
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=abcdefabcdef"])
def test_an_unversioned_or_outdated_static_url_is_revalidated(client, query):
    reply = _get(client, f"/static/css/app.css{query}")
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-cache"


def test_pages_are_gzipped_for_clients_that_accept_it(client):
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    reply = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in reply.headers["Vary"]
    body = gzip.decompress(reply.get_data())
    assert body == plain.get_data()
    assert len(reply.get_data()) < len(body) / 2


def test_static_files_are_compressed_too(client):
    name = "js/attempt.js"
    reply = _get(client, f"/static/{name}?v={_version(name)}",
                       headers={"Accept-Encoding": "br, gzip"})
    assert reply.headers["Content-Encoding"] == "br"
    import brotli

    assert brotli.decompress(reply.get_data()) == (STATIC / name).read_bytes()
