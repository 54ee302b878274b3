"""Issue 11 in the app: conflicting repeats, type codes confirmed on the page and the CLI."""

from studyhall.bank.importing import apply_question_import, plan_question_import


def test_a_repeat_with_a_different_answer_is_an_error_naming_both_lines(app):
    text = ("题型,题干,选项A,选项B,答案\n单选题,同一题,甲,乙,A\n单选题,其他,甲,乙,A\n"
            "单选题,同一题,甲,乙,B\n")
    plan = plan_question_import(text.encode(), "a.csv")
    assert [row.fate for row in plan.rows] == ["new", "new", "repeat"]
    (error,) = plan.errors
    assert error.line == 4
    assert "2" in error.message
    assert not plan.can_apply(valid_only=False)
    assert apply_question_import(plan, valid_only=True)["created"] == 2
