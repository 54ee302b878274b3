"""What counts as live markup in HTML we render: the one check the Markdown fuzzing and the
hostile-input tests share."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Schemes a browser would run or load inline.
DANGEROUS_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|file)\s*:", re.IGNORECASE)
LIVE_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "input",
             "button", "textarea", "select", "link", "meta", "base", "frame", "frameset",
             "template", "video", "audio", "source", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster",
                  "background", "data"}


class _Finder(HTMLParser):
    def __init__(self, allowed_image_src):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.allowed_image_src = allowed_image_src

    def handle_starttag(self, tag, attrs):
        if tag in LIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=>")
            elif name in URL_ATTRIBUTES and value and DANGEROUS_SCHEME.match(
                    re.sub(r"[\x00-\x20]", "", value)):
                self.found.append(f"<{tag} {name}={value[:40]!r}>")
            elif tag == "img" and name == "src" and not self.allowed_image_src(value or ""):
                self.found.append(f"<img src={value[:40]!r}> not our storage")

    handle_startendtag = handle_starttag


def live_markup(html: str, allowed_image_src=lambda src: True) -> list[str]:
    """The live elements, event attributes and script/data URLs in ``html`` (empty when
    there are none). ``allowed_image_src`` says which image addresses are our own."""
    finder = _Finder(allowed_image_src)
    finder.feed(html)
    finder.close()
    return finder.found
