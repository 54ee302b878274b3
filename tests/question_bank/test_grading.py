from decimal import Decimal

import pytest

from question_bank import grade, parse_true_false

CASES = [
    # type, response, score, is_correct
    ("single", "A", 2, True),
    ("single", "ａ", 2, True),
    ("single", "B", 0, False),
    ("single", "AB", 0, False),
    ("single", None, 0, False),
    ("multiple", "ABD", 2, True),
    ("multiple", "a、b、d", 2, True),
    ("multiple", ["D", "A", "B"], 2, True),
    ("multiple", "AB", 0, False),
    ("multiple", "ABC", 0, False),
    ("multiple", "", 0, False),
    ("true_false", "对", 2, True),
    ("true_false", True, 2, True),
    ("true_false", "错", 0, False),
    ("true_false", "也许", 0, False),
    ("true_false", "  ", 0, False),
    ("fill_blank", ["1", "表决权"], 2, True),
    ("fill_blank", ["一", "选举权"], 1, False),
    ("fill_blank", ["二", "选举权"], 0, False),
    ("fill_blank", [], 0, False),
]


@pytest.mark.parametrize(("type_", "response", "score", "is_correct"), CASES)
def test_every_type_scores_correct_wrong_partial_and_blank(
    make_question, type_, response, score, is_correct
):
    result = grade(make_question(type_), response)
    assert (result.score, result.is_correct, result.needs_manual) == (score, is_correct, False)
    assert result.max_score == 2


def test_short_answer_waits_for_a_person(make_question):
    result = grade(make_question("short_answer"), "警告等五种")
    assert (result.score, result.needs_manual, result.is_correct) == (0, True, False)


def test_blank_short_answer_needs_no_grader(make_question):
    assert not grade(make_question("short_answer"), " ").needs_manual


@pytest.mark.parametrize(
    ("response", "score", "detail"),
    [
        ("ABD", 2, "正确"),
        ("AB", 1, "少选，得部分分"),
        ("ABC", 0, "错选，不得分"),
        ("C", 0, "错选，不得分"),
    ],
)
def test_partial_policy_pays_for_missing_but_not_for_wrong_choices(
    make_question, response, score, detail
):
    result = grade(make_question("multiple"), response, multiple_policy="partial")
    assert (result.score, result.detail) == (score, detail)


def test_partial_fraction_is_configurable(make_question):
    question = make_question("multiple", points=3)
    result = grade(question, "A", multiple_policy="partial", partial_fraction=Decimal("0.3"))
    assert result.score == Decimal("0.90")


def test_unknown_policy_is_refused(make_question):
    with pytest.raises(ValueError, match="multiple_policy"):
        grade(make_question("multiple"), "A", multiple_policy="lenient")


@pytest.mark.parametrize(
    ("answer", "response"),
    [
        ("中国共产党", "  中国共产党 "),
        ("ABC", "ＡＢＣ"),
        ("abc", "ABC"),
        ("1，2", "1,2"),
        ("结束。", "结束."),
        ("（甲）", "(甲)"),
        ("“两个维护”", '"两个维护"'),
        ("a；b：c", "a;b:c"),
        ("甲、乙", "甲,乙"),
        ("‘x’", "'x'"),
    ],
)
def test_fill_blank_ignores_width_case_punctuation_and_spaces(make_question, answer, response):
    question = make_question("fill_blank", answer=((answer,),))
    assert grade(question, response).is_correct


def test_fill_blank_can_be_case_sensitive(make_question):
    question = make_question("fill_blank", answer=(("CPC",),), case_sensitive=True)
    assert grade(question, "CPC").is_correct
    assert not grade(question, "cpc").is_correct


def test_fill_blank_shares_points_between_blanks(make_question):
    question = make_question("fill_blank", answer=(("a",), ("b",), ("c",)))
    result = grade(question, ["a", "x", "c"])
    assert result.score == Decimal("1.33")
    assert result.detail == "第1空正确，第2空错误，第3空正确"


@pytest.mark.parametrize(
    "text",
    ["对", "正确", "√", "✓", "✔", "T", "t", "是", "true", "TRUE", "Y", "yes", "1", "１", " 对 "],
)
def test_true_spellings(text):
    assert parse_true_false(text) is True


@pytest.mark.parametrize(
    "text", ["错", "错误", "×", "✗", "✘", "F", "f", "否", "false", "N", "no", "0"]
)
def test_false_spellings(text):
    assert parse_true_false(text) is False


@pytest.mark.parametrize("text", ["", None, "对吗", "2", "x"])
def test_unknown_true_false_spellings(text):
    assert parse_true_false(text) is None
