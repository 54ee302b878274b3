"""The hostile-input corpus (issue 12, item 2), generated rather than listed: XSS vectors
crossed with the breakers that close whatever context they land in, template syntax,
SQL-injection strings, overlong values, control/bidi/zero-width Unicode, invalid UTF-8
and oversized numbers. Every markup payload carries MARKER in the element it would create,
so a page shows live markup exactly when an element or attribute carrying MARKER is live
(``live_payload``)."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

from tests.fuzz.live_markup import DANGEROUS_SCHEME, LIVE_TAGS, URL_ATTRIBUTES

MARKER = "hx7331"
#: What a template engine would print for the template payloads (7331 * 7).
EVALUATED = "51317"

VECTORS = [
    f"<script id={MARKER}>alert(1)</script>",
    f"<img src=x id={MARKER} onerror=alert(1)>",
    f"<svg id={MARKER} onload=alert(1)><circle/></svg>",
    f"<svg><script id={MARKER}>alert(1)</script></svg>",
    f"<a id={MARKER} href=javascript:alert(1)>x</a>",
    f"<a id={MARKER} href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    f"<iframe id={MARKER} src=\"javascript:alert(1)\"></iframe>",
    f"<details open id={MARKER} ontoggle=alert(1)>",
    f"<math><mtext><table><mglyph><style><img id={MARKER} src=x onerror=alert(1)>",
    f"<object id={MARKER} data=\"data:text/html,x\"></object>",
    f"[x](javascript:alert('{MARKER}'))",
    f"![{MARKER}](data:image/svg+xml,<svg/onload=alert(1)>)",
]
#: What closes the context a value is printed in: an attribute, a textarea, a title,
#: a comment, a script string, a style, a noscript.
BREAKERS = ["", "\">", "'>", "\" ", "' ", "</textarea>", "</title>", "--></script>",
            "\\\"", "`", "</style>", "</noscript>"]
ATTRIBUTE_BREAKERS = [f"\" on{MARKER}=1 x=\"", f"' on{MARKER}=1 x='",
                      f"\" onmouseover=alert('{MARKER}') \"", f"x onfocus={MARKER} autofocus "]
TEMPLATES = ["{{ 7331*7 }}", "{{7331*7}}", "${7331*7}", "#{7331*7}", "{% print(7331*7) %}",
             "{{ config }}", "{{ self.__init__.__globals__ }}", "<%= 7331*7 %>"]
SQL = ["' OR '1'='1", "'; DROP TABLE person;--", "1) OR 1=1--", "\" OR \"\"=\"",
       "' UNION SELECT password_hash FROM person--", "admin'--", "\\'; SELECT pg_sleep(0);--",
       "%' AND 1=0 --", "1; SELECT 1", "'||(SELECT 1)||'"]
UNICODE = ["\x00", "a\x00b", "\x01\x02\x1b[31m", "\u202eevil\u202c", "\u2066x\u2069",
           "\u200b", "\u200b\u200c\u200d\ufeff", "\u2028\u2029", "\ufffd", "\U0001f600" * 10,
           "e\u0301" * 20, "\u3000", "   ", "\r\n\r\n", "\t"]
INVALID_UTF8 = [b"\xff\xfe", b"abc\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe5\xad"]
OVERLONG = ["字" * 256, "a" * 1001, "字" * 10001, "x" * 100001]
NUMBERS = ["9" * 30, "-9" + "9" * 30, "-1", "0", "1e309", "-1e309", "NaN", "Infinity",
           "0x10", "１２", "٣", "1_000", "2147483648", "9223372036854775808", "1.0000000001",
           " 1 ", "1e-400"]
CHOICES = ["9" * 30, "-1", "0", "x", "' OR 1=1--", ""]
DATES = ["9999-12-31T23:59", "0000-00-00T00:00", "2026-02-30T10:00", "x", "99999-01-01T00:00",
         "2026-01-01", "25:61"]


#: How filters are dodged: tag names in mixed case, a slash, a newline or a tab where a
#: space was, a NUL inside the tag name (dropped by the forms, which would rebuild the
#: tag), javascript: spelt with character references or a tab. The marker is kept.
MUTATIONS = [
    lambda text: re.sub(r"<(/?)([a-z]+)", lambda m: f"<{m[1]}{m[2][0].upper()}{m[2][1:]}",
                        text),
    lambda text: re.sub(r"(<[a-z]+) ", r"\1/", text).replace("\" ", "\"/"),
    lambda text: text.replace(" ", "\n"),
    lambda text: text.replace(" ", "\t"),
    lambda text: re.sub(r"<([a-z])([a-z]+)", "<\\1\x00\\2", text),
    lambda text: text.replace("javascript:", "&#106;ava&#x73;cript&colon;"),
    lambda text: text.replace("javascript:", "java\tscript:").replace("alert(1)", "alert`1`"),
]


def text_payloads() -> list[str | bytes]:
    """Everything typed into a text field (each payload once)."""
    markup = [breaker + vector for breaker, vector in itertools.product(BREAKERS, VECTORS)]
    mutated = [mutate(text) for mutate in MUTATIONS for text in [*markup, *ATTRIBUTE_BREAKERS]]
    return list(dict.fromkeys([*markup, *ATTRIBUTE_BREAKERS, *TEMPLATES, *SQL, *UNICODE,
                               *INVALID_UTF8, *OVERLONG, *mutated]))


#: Attributes where the app prints what was typed as inert text (data-confirm is shown
#: by window.confirm, as text: static/js/app.js).
INERT = {"value", "title", "alt", "placeholder", "aria-label", "content", "data-value",
         "data-confirm"}


class _LiveFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = [(name, value or "") for name, value in attrs]
        if any(MARKER in name for name, _value in attrs):
            self.found.append(f"<{tag}> with a new attribute {attrs}")
            return
        if not any(MARKER in value and name not in INERT for name, value in attrs):
            return  # not an element a payload made
        if tag in LIVE_TAGS:
            self.found.append(f"<{tag} {attrs}>")
        for name, value in attrs:
            if name.startswith("on") or (name in URL_ATTRIBUTES and DANGEROUS_SCHEME.match(
                    re.sub(r"[\x00-\x20]", "", value))):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")

    handle_startendtag = handle_starttag


def live_payload(html: str) -> list[str]:
    """The live elements or attributes a payload created in ``html``; a template payload
    evaluated counts too."""
    finder = _LiveFinder()
    finder.feed(html)
    finder.close()
    found = finder.found
    if EVALUATED in html:
        found.append(f"a template payload was evaluated ({EVALUATED})")
    return found
