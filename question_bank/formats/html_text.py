"""HTML to plain text, for question texts that Moodle stores as HTML.

Only text survives: tags are dropped, entities decoded, block elements and <br>
become line breaks, scripts and styles vanish. Nothing is ever rendered or run.
``<pre>`` keeps its line breaks and spaces. What cannot be kept (images, audio,
video, embedded objects, links to media files) is listed by :func:`html_to_text_media`
so that the caller can warn about each one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
    ]
)
_HIDDEN = frozenset(("script", "style"))
_SPACES = re.compile(r"[ \t\r\n\f\xa0]+")  # \xa0 is &nbsp;
_MEDIA = {"img": "图片", "audio": "音频", "video": "视频", "object": "嵌入对象",
          "embed": "嵌入对象", "iframe": "嵌入页面"}  # fmt: skip
_MEDIA_LINK = re.compile(
    r"\.(mp3|wav|ogg|oga|m4a|aac|flac|mp4|m4v|webm|ogv|mov|avi|wmv|flv|swf)(\?|#|$)", re.I
)
_AUDIO_EXTENSIONS = frozenset(("mp3", "wav", "ogg", "oga", "m4a", "aac", "flac"))
# Inside <pre>, line breaks and spaces are kept as private-use characters until the end,
# so that the stripping of ordinary lines does not touch them.
_PRE_BREAK, _PRE_SPACE = "\ue100", "\ue101"
_PRE_RESTORE = str.maketrans({_PRE_BREAK: "\n", _PRE_SPACE: " "})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.media: list[str] = []
        self._hidden = 0
        self._pre = 0
        self._media_depth = 0  # <source> inside <audio>/<video> is the same item

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _MEDIA:
            name = values.get("src") or values.get("data") or ""
            self.media.append(_describe(_MEDIA[tag], name))
            if tag in ("audio", "video"):
                self._media_depth += 1
        elif tag == "source" and self._media_depth and self.media and "“" not in self.media[-1]:
            self.media[-1] = _describe(self.media[-1], values.get("src") or "")
        elif tag == "a" and _MEDIA_LINK.search(values.get("href") or ""):
            href = values.get("href") or ""
            kind = "音频" if _MEDIA_LINK.search(href)[1].lower() in _AUDIO_EXTENSIONS else "视频"  # type: ignore[index]
            self.media.append(_describe(kind, href))
        elif tag == "pre":
            self._pre += 1
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("audio", "video"):
            self._media_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in ("audio", "video"):
            self._media_depth = max(0, self._media_depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden or self._media_depth:
            return
        if self._pre:
            data = data.replace("\r\n", "\n").replace("\n", _PRE_BREAK).replace(" ", _PRE_SPACE)
            self.parts.append(data.replace("\t", _PRE_SPACE * 4))
        else:
            self.parts.append(_SPACES.sub(" ", data))


def _describe(kind: str, source: str) -> str:
    name = source.rsplit("/", 1)[-1].split("?", 1)[0] if source else ""
    return f"{kind}“{name}”" if name and not source.startswith("data:") else kind


def html_to_text_media(html: str) -> tuple[str, list[str]]:
    """Return the text of ``html`` and what it held that is lost, e.g. ["图片“a.png”"]."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (line.strip() for line in "".join(collector.parts).split("\n"))
    text = "\n".join(line for line in lines if line).translate(_PRE_RESTORE)
    return text, collector.media


def html_to_text(html: str) -> tuple[str, int]:
    """Return the text of ``html`` and the number of media items it had (which are lost)."""
    text, media = html_to_text_media(html)
    return text, len(media)
