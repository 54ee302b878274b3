"""The password rules: the commonest passwords are refused, with the reason."""

import pytest

from studyhall.auth.common_passwords import COMMON
from studyhall.auth.passwords import password_problem, quick_problem


@pytest.mark.parametrize("password", [
    "12345678", "98765432", "34567890", "abcdefgh", "hgfedcba",  # runs
    "88888888", "aaaaaaaaaa", "12121212", "abcabcabc", "5201314520131452",  # repeats
    "woaini1314", "woaini520", "qwertyuiop", "1qaz2wsx", "a123456789", "password1",
    "P@ssw0rd", "iloveyou", "zhongguo123", "laoshi123", "Aa123456", "qq123456789",
])
def test_the_commonest_passwords_fail_the_quick_rules(password):
    assert quick_problem(password)


@pytest.mark.parametrize("password", ["Laoshi@2024", "2024qwerty!", "Zhongguo2024",
                                      "Wangwei@1990", "Teacher2024"])
def test_a_common_word_with_digits_or_signs_around_it_is_refused(password):
    assert "Common words, names and pinyin" in quick_problem(password)


@pytest.mark.parametrize("password", ["19880808", "19900101a", "p@ssword99", "monkey2dragon"])
def test_patterns_beyond_the_lists_fail_the_full_check(password):
    assert quick_problem(password) is None
    assert password_problem(password)


@pytest.mark.parametrize("password", ["correct-horse-9", "Wo-ai-shuxue7", "lanqiu-7-hao",
                                      "xK9#mq2Lp", "银杏树下的第3棵"])
def test_passwords_that_are_hard_to_guess_pass(password):
    assert password_problem(password, account="t1", phone="13912345678") is None


@pytest.mark.parametrize("password", ["zs2024-strong-x", "ZS2024-Strong-x",
                                      "x13912345678y", "x139-1234-5678y"])
def test_the_account_or_the_phone_inside_is_refused(password):
    problem = quick_problem(password.replace("-", "") if "139" in password else password,
                            account="zs2024", phone="139-1234-5678")
    assert "account name or the phone number" in problem


def test_a_short_account_name_inside_a_password_is_not_a_reason():
    assert quick_problem("t1-is-only-two-letters", account="t1") is None


def test_the_length_is_checked_first():
    assert quick_problem("short") == "Use 8 to 200 characters."
    assert quick_problem("x" * 201) == "Use 8 to 200 characters."


def test_the_chinese_list_is_several_hundred_distinct_lower_case_entries():
    assert len(COMMON) >= 400 and len(set(COMMON)) == len(COMMON)
    assert all(word == word.lower() and " " not in word for word in COMMON)


def test_a_long_password_is_checked_quickly_by_its_beginning():
    assert password_problem("a" * 200) is not None
    sentence = ("Tall mountains, quiet rivers and 3 old pines stand by the school gate "
                "where the bell rings at seven each morning; nobody guesses this line.")
    assert len(sentence) > 100 and password_problem(sentence) is None
