"""字数: the one length rule of reflections and reading estimates (no Flask app needed)."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studyhall.study.text import count_length, is_cjk

# Shared with the browser test that checks reflection.js agrees (keep them here).
SAMPLES: list[tuple[str, int]] = [
    ("", 0),
    ("   \n\t　", 0),
    ("学习", 2),
    ("学习贯彻全会精神。", 8),
    ("，。、；：？！“”‘’（）《》【】——……·", 0),
    (".,;:?!\"'()[]{}-_/\\@#$%^&*+=<>|~`", 0),
    ("学习贯彻2024年全会精神，AI赋能！", 13),
    ("hello world", 2),
    ("Hello, world! 你好，世界！", 6),
    ("don't stop", 2),
    ("rock'n'roll", 1),
    ("it’s", 1),
    ("COVID-19疫情", 3),
    ("well -- known", 2),
    ("圆周率3.14，人口1,000人", 8),
    ("v1.2.3", 1),
    ("end.Next", 2),
    ("３月１２日学习ＡＩ", 7),
    ("二〇二四年", 5),
    ("人々", 2),
    ("𠮷野家", 3),
    ("αβγ与Ωmega", 3),
    ("café naïve", 2),
    ("cafe\u0301 nai\u0308ve", 2),
    ("한국어", 3),
    ("カタカナー", 5),
    ("👍👍好", 1),
    ("① 第一条", 4),
    ("x²+y²", 2),
    ("'quoted' words", 2),
    ("e.g. U.S.A.", 5),
    ("心得体会\n\n第一段。\n第二段", 10),
]


@pytest.mark.parametrize("text, expected", SAMPLES)
def test_samples(text, expected):
    assert count_length(text) == expected


def test_cjk_ranges():
    assert is_cjk("中") and is_cjk("〇") and is_cjk("𠮷") and is_cjk("가")
    assert not is_cjk("A") and not is_cjk("，") and not is_cjk("１") and not is_cjk("😀")


cjk_text = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF))
uncounted = st.text(alphabet=" \n\t　，。、；：？！“”（）《》.,;:?!\"()-")


@given(cjk_text)
def test_each_han_character_counts_one(text):
    assert count_length(text) == len(text)


@given(uncounted)
def test_punctuation_and_whitespace_count_nothing(text):
    assert count_length(text) == 0


@given(st.text(), st.text())
def test_a_space_between_two_texts_adds_their_counts(a, b):
    assert count_length(a + " " + b) == count_length(a) + count_length(b)


@given(st.text(), st.text())
def test_joining_two_texts_merges_at_most_one_word(a, b):
    total = count_length(a) + count_length(b)
    assert total - 1 <= count_length(a + b) <= total


@given(st.text(), st.integers(min_value=0), uncounted)
def test_inserting_uncounted_characters_never_lowers_the_count(text, at, filler):
    at = at % (len(text) + 1)
    assert count_length(text[:at] + filler + text[at:]) >= count_length(text)


@given(st.text())
def test_normalisation_form_does_not_matter(text):
    assert count_length(unicodedata.normalize("NFD", text)) == count_length(text)


@given(st.text(alphabet=st.sampled_from("abcXYZ019"), min_size=1),
       st.integers(min_value=1, max_value=20))
def test_words_count_once_however_long(word, times):
    assert count_length(" ".join([word] * times)) == times
