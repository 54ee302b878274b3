"""Text normalisation shared by grading, importers and duplicate detection."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from question_bank.types import OPTION_LETTERS, Question

# After NFKC, full-width forms such as ， ； ： （ ） are already ASCII; these remain.
_PUNCTUATION = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "【": "[",
        "】": "]",
        "〔": "(",
        "〕": ")",
        "—": "-",
        "－": "-",
    }
)
_WHITESPACE = re.compile(r"\s+")
_LETTER_SEPARATORS = re.compile(r"[\s,;、/|]+")
# A header's decorations, after NFKC and _PUNCTUATION: a bracketed note anywhere
# ("(必填)", "【必填】" → "[必填]", "<选填>", "〈…〉", "《…》"), required-field marks and
# a trailing colon.
_HEADER_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>|〈[^〈〉]*〉|《[^《》]*》")
_HEADER_MARKS = re.compile(r"[*※★☆]")
_HEADER_BRACKETS = re.compile(r"[()\[\]<>〈〉《》]")

_TRUE_WORDS = frozenset(
    ["对", "正确", "是", "√", "✓", "✔", "t", "true", "y", "yes", "1", "對", "正確"]
)
_FALSE_WORDS = frozenset(
    ["错", "错误", "否", "×", "✗", "✘", "✕", "f", "false", "n", "no", "0", "錯", "錯誤"]
)


def normalize_text(text: str, *, case_sensitive: bool = False) -> str:
    """Return ``text`` in the form answers are compared in.

    NFKC (full-width letters, digits and punctuation become half-width), Chinese
    punctuation unified with its ASCII twin (。→. 、→, “”→" ‘’→'), runs of whitespace
    collapsed to one space, surrounding whitespace stripped, and case folded unless
    ``case_sensitive``.
    """
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    text = _WHITESPACE.sub(" ", text).strip()
    return text if case_sensitive else text.casefold()


def clean_header(cell: str) -> str:
    """Return the key a spreadsheet's header cell is compared by, its decorations gone.

    Both importers (questions and rosters) match headers through this one rule, so
    ``姓名(必填)``, ``*用户名``, ``工号*``, ``姓名（必填）``, ``【必填】姓名``, ``姓名：``
    and a line break inside the cell all read as the bare name: NFKC (full-width
    brackets, stars and colons become ASCII), every whitespace removed, bracketed notes
    ((), [], 【】, <>, 〈〉, 《》) and the marks * ※ ★ ☆ dropped, a trailing colon
    dropped, and case folded. A cell that is nothing but a bracketed name
    (``【姓名】``) keeps the name.
    """
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", cell).translate(_PUNCTUATION))
    text = _HEADER_MARKS.sub("", text)
    bare = _HEADER_NOTE.sub("", text)
    if not bare.strip(":"):
        bare = _HEADER_BRACKETS.sub("", text)
    return bare.rstrip(":").casefold()


def parse_true_false(text: str | bool | int | None) -> bool | None:
    """Read a true/false answer; ``None`` when it is blank or not recognised.

    True: 对 正确 是 √ ✓ ✔ T TRUE Y YES 1; false: 错 错误 否 × ✗ ✘ ✕ F FALSE N NO 0
    (any case, full- or half-width, surrounding spaces ignored).
    """
    if isinstance(text, bool) or text is None:
        return text
    word = normalize_text(str(text))
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None


def parse_letters(text: str) -> tuple[str, ...] | None:
    """Read option letters such as "ABD", "a,b,d", "A、B、D", "A B D" or "Ａ，Ｂ".

    :return: the distinct letters sorted, ``()`` for a blank text, or ``None`` when
        anything other than the letters A–H and separators is present.
    """
    letters = _LETTER_SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if any(letter not in OPTION_LETTERS for letter in letters):
        return None
    return tuple(sorted(set(letters)))


def normalized_key(question: Question) -> str:
    """Return a fingerprint that two copies of the same question share.

    Built from the type, the stem and the options in sorted order, each normalised
    with :func:`normalize_text` and with all whitespace removed, then hashed (SHA-256,
    64 hex digits) so the app can index it.
    """

    def squeeze(text: str) -> str:
        return _WHITESPACE.sub("", normalize_text(text))

    parts = [question.type.value, squeeze(question.stem)]
    parts += sorted(squeeze(option) for option in question.options)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
