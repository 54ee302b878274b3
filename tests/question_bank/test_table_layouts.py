"""Issue 11, item 5: the layouts Chinese exam systems ship, read or refused by name.
The fixtures are written here, in the shape of those systems' templates."""

import io

import pytest
import python_calamine
import xlsxwriter

from question_bank import load_questions, xlsx_template


def xlsx(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        sheet = workbook.add_worksheet()
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
    return buffer.getvalue()


def questions_of(result):
    return [(p.question.type.value, p.question.options, p.question.answer)
            for p in result.questions]


def test_options_packed_in_one_cell_and_multi_answers_without_separator():
    data = xlsx([
        ["题目类型", "题干", "可选项", "正确答案", "答案解析", "难易程度"],
        ["单选题", "问一", "A.甲;B.乙;C.丙", "B", "解析", "易"],
        ["多选题", "问二", "甲；乙；丙；丁", "ABCD", "", ""],
        ["多选题", "问三", "A、甲\nB、乙\nC、丙", "AC", "", ""],
        ["单选题", "问四", "甲|乙", "A", "", ""],
    ])
    result = load_questions(data, "xlsx")
    assert questions_of(result) == [
        ("single", ("甲", "乙", "丙"), "B"),
        ("multiple", ("甲", "乙", "丙", "丁"), ("A", "B", "C", "D")),
        ("multiple", ("甲", "乙", "丙"), ("A", "C")),
        ("single", ("甲", "乙"), "A"),
    ]
    assert result.ok and result.warnings == []
    assert result.questions[0].question.explanation == "解析"
    assert result.questions[0].question.difficulty == "easy"


def test_an_option_text_that_starts_with_a_letter_is_not_cut():
    data = xlsx([["题型", "题干", "可选项", "答案"], ["单选题", "缩写", "AI;BI", "A"]])
    assert questions_of(load_questions(data, "xlsx")) == [("single", ("AI", "BI"), "A")]


def test_numeric_type_codes_are_guessed_and_said_flags_give_the_answer():
    data = xlsx([
        ["题型", "试题题干", "选项一内容", "选项二内容", "选项三内容", "选项A是否正确",
         "选项B是否正确", "选项C是否正确", "正确答案", "试题解析"],
        ["1", "问一", "甲", "乙", "丙", 0, 1, 0, "", ""],
        ["2", "问二", "甲", "乙", "丙", 1, 1, 0, "", ""],
        ["3", "对吗", "", "", "", "", "", "", "对", ""],
        ["4", "首都", "", "", "", "", "", "", "北京", ""],
    ])
    result = load_questions(data, "xlsx")
    assert questions_of(result) == [
        ("single", ("甲", "乙", "丙"), "B"),
        ("multiple", ("甲", "乙", "丙"), ("A", "B")),
        ("true_false", (), True),
        ("fill_blank", (), (("北京",),)),
    ]
    assert result.type_codes == {"1": "single", "2": "multiple", "3": "true_false",
                                 "4": "fill_blank"}
    assert result.type_codes_guessed
    (warning,) = result.warnings
    assert "1=单选题、2=多选题、3=判断题、4=填空题" in warning.message


def test_codes_are_guessed_from_the_rows_not_only_from_habit():
    data = xlsx([["题型", "题干", "选项A", "选项B", "答案"],
                 ["1", "对吗", "", "", "错"], ["3", "问", "甲", "乙", "AB"]])
    result = load_questions(data, "xlsx")
    assert result.type_codes == {"1": "true_false", "3": "multiple"}


def test_given_type_codes_are_used_and_a_missing_code_is_a_row_error():
    data = xlsx([["题型", "题干", "选项A", "选项B", "答案"],
                 ["1", "问一", "甲", "乙", "A"], ["7", "问二", "甲", "乙", "AB"],
                 ["2", "问三", "甲", "乙", "A"]])
    result = load_questions(data, "xlsx", type_codes={"1": "multiple", "2": "single"})
    assert questions_of(result) == [("multiple", ("甲", "乙"), ("A",)),
                                    ("single", ("甲", "乙"), "A")]
    assert not result.type_codes_guessed
    (error,) = result.errors
    assert (error.line, error.column, error.value) == (3, "题型", "7")


def test_flags_and_answer_that_disagree_are_a_row_error():
    data = xlsx([["题型", "题干", "选项A", "选项B", "A是否正确", "B是否正确", "答案"],
                 ["单选题", "问", "甲", "乙", 1, 0, "B"]])
    (error,) = load_questions(data, "xlsx").errors
    assert (error.line, error.column) == (2, "答案")
    assert "不一致" in error.message


def test_ordering_questions_are_refused_by_name_per_row():
    data = xlsx([["题型", "题干", "可选项", "答案"], ["排序题", "排一排", "甲;乙;丙", "CAB"],
                 ["单选题", "问", "甲;乙", "A"]])
    result = load_questions(data, "xlsx")
    assert len(result.questions) == 1
    (item,) = result.unsupported
    assert item.line == 2
    assert "“题型”列" in item.message and "排序题" in item.message


def test_long_format_with_one_row_per_option_is_refused_naming_the_column():
    data = xlsx([["题型", "题干", "选项内容", "是否正确"], ["单选题", "问", "", ""],
                 ["", "", "甲", "1"], ["", "", "乙", "0"]])
    result = load_questions(data, "xlsx")
    assert result.questions == []
    (error,) = result.errors
    assert error.column == "是否正确"
    assert "每个选项占一行" in error.message and "选项A" in error.message


@pytest.mark.parametrize("separator", [";", "；", "|", "\n"])
def test_csv_packed_options_every_separator(separator):
    text = f'题型,题干,选项,答案\n单选题,问,"甲{separator}乙{separator}丙",C\n'
    result = load_questions(text.encode(), "csv")
    assert questions_of(result) == [("single", ("甲", "乙", "丙"), "C")]


def test_the_template_shows_the_other_layouts_and_they_import():
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(xlsx_template()))
    assert "其他可接受的格式" in workbook.sheet_names
    rows = workbook.get_sheet_by_name("其他可接受的格式").to_python()
    text = "\n".join(" ".join(str(cell) for cell in row) for row in rows)
    for needle in ("可选项", "选项A是否正确", "1=单选题", "排序题", "每个选项占一行"):
        assert needle in text


@pytest.mark.parametrize("layout", range(2))
def test_every_layout_the_template_shows_imports_cleanly(layout):
    from question_bank.formats.table import read_rows
    from question_bank.template import LAYOUTS

    _, _, header, examples = LAYOUTS[layout]
    result = read_rows([list(header), *map(list, examples)], (), None)
    assert result.errors == [] and result.unsupported == []
    assert len(result.questions) == len(examples)
