import json
from decimal import Decimal

import pytest

from question_bank import (
    QUESTION_TYPES,
    Question,
    QuestionValidationError,
    normalized_key,
)


@pytest.mark.parametrize("type_", sorted(QUESTION_TYPES))
def test_config_round_trips_through_json(make_question, type_):
    question = make_question(type_, points=Decimal("2.5"), category=("党纪", "条例"), tags=("a",))
    config = json.loads(json.dumps(question.to_config()))
    assert Question.from_config(type_, config) == question


def test_labels_of_the_types():
    labels = [kind.label for kind in QUESTION_TYPES.values()]
    assert labels == ["单选题", "多选题", "判断题", "填空题", "简答题"]


def test_building_tidies_text_points_and_answers():
    question = Question(
        type="multiple", stem=" 题 ", options=["甲 ", "乙"], answer=["b", "a"], points=2.0
    )
    assert (question.stem, question.options, question.answer) == ("题", ("甲", "乙"), ("A", "B"))
    assert str(question.points) == "2"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "single", "options": ("甲",), "answer": "A"}, "单选题需要2到8个选项，当前有1个"),
        ({"type": "single", "options": ("甲", "甲"), "answer": "A"}, "选项B与前面的选项重复"),
        ({"type": "single", "options": ("甲", "乙"), "answer": "C"}, "应为A到B之间的字母"),
        ({"type": "multiple", "options": ("甲", "乙"), "answer": ()}, "一个或多个选项字母"),
        ({"type": "true_false", "answer": "对"}, "判断题的答案应为"),
        ({"type": "true_false", "options": ("对", "错"), "answer": True}, "判断题不能有选项"),
        ({"type": "fill_blank", "answer": (("a", ""),)}, "第1空没有答案"),
        ({"type": "true_false", "answer": True, "points": 0}, "分值“0”无效"),
        ({"type": "true_false", "answer": True, "points": "1.555"}, "最多保留两位小数"),
        ({"type": "true_false", "answer": True, "keywords": ("x",)}, "只有简答题可以设置关键词"),
    ],
)
def test_validation_explains_in_chinese(fields, message):
    question = Question(stem="题", **fields)
    with pytest.raises(QuestionValidationError) as error:
        question.validate()
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"version": 2}, "配置版本"),
        ({"version": 1, "stem": "题", "colour": "red"}, "未知字段：colour"),
        ({"version": 1, "stem": "题", "answer": True, "tags": 5}, "配置格式错误"),
    ],
)
def test_from_config_rejects_unknown_versions_and_keys(config, message):
    with pytest.raises(QuestionValidationError, match=message):
        Question.from_config("true_false", config)


def test_unknown_type_is_a_validation_error():
    with pytest.raises(QuestionValidationError, match="题型“essay”无效"):
        Question(type="essay", stem="题")


def test_normalized_key_ignores_width_spacing_and_option_order(make_question):
    first = make_question("single", stem="党的最高领导机关是（ ）？", options=("甲", "乙", "丙"))
    second = make_question("single", stem="党的最高领导机关是( )? ", options=("丙", "甲", "乙"))
    assert normalized_key(first) == normalized_key(second)
    assert normalized_key(first) != normalized_key(make_question("multiple", stem=first.stem))
