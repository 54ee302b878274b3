"""Looking for answer keys and 解析 in what reaches a taker's browser.

A JSON reply cannot be searched as text: jsonify escapes Chinese as \\uXXXX, so "解析甲"
never appears in the body even when it is there (issue 7 item 23). JSON replies are
decoded and every string in them — keys and values, at any depth — is searched; HTML is
searched as text. test_quiz_keys.py proves this finds a key planted in a JSON reply.
"""

from __future__ import annotations

import re

#: Texts of make_quiz's bank that only a leak of answers or explanations would show.
SECRETS = ["解析甲", "解析乙", "解析丙", "出处甲", "中央委员会", "党中央",
           "支部党员大会、支部委员会会议", "按时上好党课"]
#: Marks of a key in HTML: the correct option's class, a data attribute, a key in JSON text.
LEAK_MARKS = re.compile(r'class="[^"]*\bcorrect\b|data-answer=|"answer":|"explanation":')
#: Names under which a JSON reply would carry a key.
KEY_NAMES = {"answer", "explanation", "source", "correct", "keywords", "reference"}


def json_strings(value, *, as_key: bool = False):
    """(is a key, text) for every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield as_key, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield True, key
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)
    elif not (value is None or isinstance(value, bool | int | float)):
        raise TypeError(f"not a JSON value: {value!r}")


def assert_no_leak(reply, secrets=SECRETS, *, allowed: tuple[str, ...] = ()) -> None:
    """No secret in ``reply``: a test client response (JSON decoded and walked, anything
    else read as text) or a text. ``allowed`` are texts the taker typed themselves."""
    if hasattr(reply, "get_data") and reply.is_json:
        for is_key, text in json_strings(reply.get_json()):
            if is_key:
                assert text not in KEY_NAMES, f"key {text!r} in a JSON reply"
            for secret in secrets:
                assert secret not in text or text in allowed, f"{secret!r} in a JSON reply"
        return
    text = reply.get_data(as_text=True) if hasattr(reply, "get_data") else reply
    for typed in allowed:
        text = text.replace(typed, "")
    for secret in secrets:
        assert secret not in text, f"{secret!r} on the page"
    assert not LEAK_MARKS.search(text), LEAK_MARKS.search(text).group(0)
