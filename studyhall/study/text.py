"""How long a text is, counted the way Chinese readers count it (字数).

One rule, used everywhere a length is shown or enforced: the minimum length
of a reflection (心得体会), the live counter in the browser
(studyhall/static/js/reflection.js mirrors this function character for
character; tests/browser check that both agree), and the reading estimate of
a material.

The rule, on the NFC-normalised text, character by character (code points,
so characters outside the Basic Multilingual Plane count once):

* A CJK character counts 1: Han ideographs (CJK Unified Ideographs and all
  their extensions, compatibility ideographs), 〇 (U+3007, as in 二〇二四年),
  々 (U+3005), kana and Hangul syllables.
* A word counts 1. A word is a maximal run of letters and digits (Unicode
  categories L* and N* that are not CJK characters: Latin, full-width
  Ａ-Ｚ/０-９, Greek, Cyrillic, ...), with combining marks (M*) kept inside
  it. Inside a word, an apostrophe (' or ’) or a hyphen joins when a letter
  or digit follows ("don't", "COVID-19" are one word each), and a point or a
  comma joins two ASCII digits ("3.14", "1,000" are one word each).
* Everything else is not counted: whitespace, punctuation (Chinese and
  ASCII: ，。、；：？！“”‘’（）《》【】—…·, .,;:?!"'()[]-), symbols and emoji.

Letters and digits are the categories of Python's Unicode database; the browser's may be
newer, so a character assigned since (a new historic script) can count there and not
here. No Chinese text is affected.

So "学习贯彻2024年全会精神，AI赋能！" counts 学习贯彻 (4) + 2024 (1) + 年全会精神
(5) + AI (1) + 赋能 (2) = 13.
"""

import unicodedata

# Inclusive code point ranges of CJK characters; reflection.js has the same list.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3005, 0x3005),    # 々 ideographic iteration mark
    (0x3007, 0x3007),    # 〇 ideographic number zero
    (0x3041, 0x3096),    # hiragana
    (0x30A1, 0x30FA),    # katakana
    (0x30FC, 0x30FC),    # ー katakana prolonged sound mark
    (0x3400, 0x4DBF),    # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),    # CJK Unified Ideographs
    (0xAC00, 0xD7A3),    # Hangul syllables
    (0xF900, 0xFAFF),    # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B-F, Compatibility Ideographs Supplement
    (0x30000, 0x323AF),  # Extensions G, H
)

_WORD_JOINERS = "'\u2019-"
_NUMBER_JOINERS = ".,"
_ASCII_DIGITS = "0123456789"


def is_cjk(char: str) -> bool:
    """Whether one character counts as one CJK character."""
    code = ord(char)
    return any(low <= code <= high for low, high in CJK_RANGES)


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN" and not is_cjk(char)


def _continues_word(text: str, i: int) -> bool:
    """Whether text[i], neither CJK nor a letter or digit, stays inside the word before it."""
    char = text[i]
    if unicodedata.category(char)[0] == "M":
        return True
    if i + 1 >= len(text):
        return False
    following = text[i + 1]
    if char in _WORD_JOINERS:
        return _is_word_char(following)
    return (char in _NUMBER_JOINERS and text[i - 1] in _ASCII_DIGITS
            and following in _ASCII_DIGITS)


def count_length(text: str) -> int:
    """The length of *text* in 字数: CJK characters plus words; see the module doc."""
    text = unicodedata.normalize("NFC", text)
    count = 0
    in_word = False
    for i, char in enumerate(text):
        if is_cjk(char):
            count += 1
            in_word = False
        elif _is_word_char(char):
            if not in_word:
                count += 1
                in_word = True
        elif in_word and _continues_word(text, i):
            continue
        else:
            in_word = False
    return count
