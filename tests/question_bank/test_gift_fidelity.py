"""Issue 11, items 1, 2 and 4 for GIFT: format tags everywhere, Moodle's lenient forms,
messages that say what to change, and what the bank cannot keep listed per question."""

import pytest

from question_bank import load_questions


def read(text: str):
    result = load_questions(text.encode(), "gift")
    return [p.question for p in result.questions], result


def test_format_tags_on_answers_feedback_and_general_feedback_are_parsed():
    questions, result = read(
        "[html]<p>Colour?</p>{\n~[plain]blue#[moodle]Nunca.\n=[html]<b>red</b>#[html]<p>Yes</p>\n"
        "####[html]<p>Here is some general feedback!</p>\n}"
    )
    (question,) = questions
    assert question.options == ("blue", "red")
    assert question.explanation == "Here is some general feedback!"
    (warning,) = result.warnings
    assert "选项A的反馈“Nunca.”" in warning.message
    assert "选项B的反馈“Yes”" in warning.message
    assert "[" not in warning.message


def test_answers_without_a_tag_take_the_question_format():
    (question,), _ = read("[html]<p>Q</p>{=<p>a &amp; b</p> ~[plain]<p>kept</p>}")
    assert question.options == ("a & b", "<p>kept</p>")


def test_fill_blank_answer_tag_is_parsed():
    (question,), _ = read("Capital?{=[plain]Beijing =[moodle]北京}")
    assert question.answer == (("Beijing", "北京"),)


def test_lone_answer_without_equals_is_a_short_answer():
    (question,), result = read("Two plus two?{Four}")
    assert (question.type, question.answer) == ("fill_blank", (("Four",),))
    assert result.ok


def test_title_missing_a_colon_is_a_warning_naming_the_line():
    (question,), result = read("// c\n\n:Title:: Who?{=One}")
    assert question.stem == ":Title:: Who?"
    (warning,) = result.warnings
    assert warning.line == 3
    assert "“::Title::”" in warning.message


def test_blank_line_inside_braces_is_explained_and_the_rest_is_not_misread():
    questions, result = read("Q{\n=a\n\n~b\n}\n\nNext{=x}")
    assert [q.stem for q in questions] == ["Next"]
    (error,) = result.errors
    assert error.line == 1
    assert "空行表示一道题结束" in error.message
    assert error.message.startswith("第3行是{}中的空行")
    assert result.unsupported == []  # the "~b }" part is not a "description"


@pytest.mark.parametrize(
    ("text", "shown"),
    [("Use the {} syntax{=a ~b}", "“\\{\\}”"), ("Set {x} is{=a}", "“\\{x\\}”")],
)
def test_unescaped_braces_in_a_stem_say_what_to_escape(text, shown):
    questions, result = read(text)
    assert questions == []
    assert result.unsupported == []
    assert shown in result.errors[0].message


def test_two_answer_blocks_are_still_an_unsupported_cloze():
    _, result = read("Two {=a} and {=b}")
    assert [u.construct for u in result.unsupported] == ["cloze"]


def test_true_false_feedback_is_listed_not_silently_dropped():
    (question,), result = read("Is it?{T#wrong answer#right answer}")
    assert question.answer is True
    (warning,) = result.warnings
    assert "答错时的反馈“wrong answer”" in warning.message
    assert "答对时的反馈“right answer”" in warning.message


def test_equal_multiple_weights_are_kept_unequal_ones_listed():
    (equal,), result = read("M{~%50%a ~%50%b ~%-100%c}")
    assert equal.answer == ("A", "B")
    assert result.warnings == []
    (unequal,), result = read("M{~%70%a ~%30%b ~%-100%c}")
    assert unequal.answer == ("A", "B")
    assert "A 70%、B 30%" in result.warnings[0].message


def test_thirds_are_equal_shares():
    _, result = read("M{~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert result.warnings == []


def test_partial_credit_answers_are_listed_per_question():
    (question,), result = read("Q{=full =%50%half#close}")
    assert question.answer == (("full",),)
    (warning,) = result.warnings
    assert "部分得分答案“half”（50%）" in warning.message
    assert "答案“half”的反馈“close”" in warning.message


def test_each_lost_image_is_a_warning_of_its_own():
    _, result = read('[html]<p>Q <img src="@@PLUGINFILE@@/a.png"><img src="b.png"></p>{=x}')
    assert [w.message for w in result.warnings] == ["图片“a.png”无法导入，已略去",
                                                    "图片“b.png”无法导入，已略去"]
