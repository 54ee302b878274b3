"""The order units are listed in: by their sort order, then by name read as people read
it, numbers by value — 第二支部 before 第十支部 before 第十一支部, 2班 before 10班.

Python's own string order compares code points, which puts 第三 before 第二 (三 is
U+4E09, 二 U+4E8C) and 10 before 2. The SQL ORDER BY of either database does the same,
so sibling lists are sorted here, after loading.
"""

from __future__ import annotations

import re

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_TOKEN = re.compile(r"([0-9０-９]+|[〇零一二三四五六七八九十百千万]+)")


def chinese_number(text: str) -> int:
    """The value of a run of Chinese numerals: 十一 → 11, 二十 → 20, 一百零五 → 105,
    and digit by digit when it has no 十/百/千/万: 二〇二四 → 2024."""
    if not any(ch in _UNITS or ch == "万" for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total = section = digit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section = digit = 0
        else:
            section += (digit or 1) * _UNITS[ch]
            digit = 0
    return total + section + digit


def natural_key(name: str) -> tuple:
    """A sort key that compares the numbers inside a name (Arabic or Chinese) by value
    and the rest as text; the name itself breaks ties (第01 and 第1)."""
    parts: list[tuple[int, int | str]] = []
    for index, token in enumerate(_TOKEN.split(name)):
        if not token:
            continue
        if index % 2 == 0:
            parts.append((1, token))
        elif token[0] in "0123456789０１２３４５６７８９":
            parts.append((0, int(token)))
        else:
            parts.append((0, chinese_number(token)))
    return (tuple(parts), name)


def unit_sort_key(unit) -> tuple:
    """Siblings in the tree, pickers and tables: sort order first, then the name."""
    return (unit.sort_order, natural_key(unit.name))
