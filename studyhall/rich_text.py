"""Text people write in Markdown (session minutes, resolutions), shown as safe HTML.

markdown-it-py renders CommonMark (plus tables and strikethrough) with raw HTML turned
off, then nh3 keeps only a short list of tags: no script, style, iframe or image, no
style or event attributes, links only to http(s) and mail, each opened with
``rel="noopener noreferrer nofollow"``. The HTML is made once, when the text is saved,
and stored beside it, so pages never render Markdown per request.

Materials need more (images from our own storage, blocks for checkpoints) and build on
the same two libraries in studyhall/study/materials.py; this is the plain renderer for
everything else.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s",
    "del", "blockquote", "code", "pre", "ul", "ol", "li", "a", "table", "thead", "tbody",
    "tr", "th", "td", "sup", "sub",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"},
                      "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# linkify stays off: it needs an extra package, and minutes rarely carry bare URLs.
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
    ["table", "strikethrough"])


def clean_html(fragment: str) -> str:
    """Keep only the allowed tags and attributes of an HTML fragment."""
    return nh3.clean(fragment, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                     clean_content_tags={"script", "style"}, url_schemes=set(URL_SCHEMES),
                     link_rel="noopener noreferrer nofollow")


def render_markdown(text: str | None) -> str:
    """Markdown → cleaned HTML, ready for ``|safe``. Single line breaks are kept (minutes
    are typed on phones, one remark per line)."""
    if not text or not text.strip():
        return ""
    return clean_html(_markdown.render(text))
