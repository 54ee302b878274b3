"""Units are listed as people read their names: numbers inside compared by value."""

import random
from types import SimpleNamespace

import pytest

from studyhall.org.sorting import chinese_number, natural_key, unit_sort_key


@pytest.mark.parametrize(("text", "value"), [
    ("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十一", 21), ("九十九", 99),
    ("一百", 100), ("一百零五", 105), ("一百一十", 110), ("二〇二四", 2024),
    ("三千零一", 3001), ("一万二千", 12000),
])
def test_chinese_numerals_are_read_by_value(text, value):
    assert chinese_number(text) == value


@pytest.mark.parametrize("expected", [
    ["第一支部", "第二支部", "第三支部", "第十支部", "第十一支部", "第二十支部"],
    ["实验小学第一支部", "实验小学第二支部", "实验小学第十二支部", "育才中学第一支部"],
    ["1班", "2班", "10班", "11班"],
    ["第2党小组", "第10党小组", "第１１党小组"],
    ["一年级组", "二年级组", "三年级组", "六年级组"],
    ["机关党支部", "离退休党支部"],
])
def test_names_sort_naturally(expected):
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=natural_key) == expected
    assert sorted(reversed(expected), key=natural_key) == expected


def test_liang_is_read_as_a_word():
    """两 is a word more often than a number in names (两新组织)."""
    assert natural_key("两新组织")[0][0] == (1, "两新组织")


def test_sort_order_comes_before_the_name():
    units = [SimpleNamespace(sort_order=order, name=name) for order, name in
             [(0, "第三支部"), (0, "第一支部"), (-1, "第十支部"), (0, "第二支部"), (5, "机关支部")]]
    assert [u.name for u in sorted(units, key=unit_sort_key)] == [
        "第十支部", "第一支部", "第二支部", "第三支部", "机关支部"]


def test_equal_values_written_differently_still_sort_the_same_way_every_time():
    names = ["第01组", "第1组", "第一组"]
    assert sorted(names, key=natural_key) == sorted(reversed(names), key=natural_key)
