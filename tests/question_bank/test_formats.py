import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from question_bank import (
    QUESTION_TYPES,
    ExportError,
    FormatError,
    Question,
    detect_format,
    dump_questions,
    export_problems,
    load_questions,
    load_sample_bank,
    xlsx_template,
)

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = [
    "序号",
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "解析",
    "分值",
    "难度",
    "分类",
    "出处",
]


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def questions_of(result) -> list[Question]:
    return [parsed.question for parsed in result.questions]


# --- Moodle XML ---------------------------------------------------------------


def test_moodle_xml_export_is_read_type_by_type():
    path = FIXTURES / "moodle_export.xml"
    result = load_questions(path.read_bytes(), filename=path.name)
    single, multiple, true_false, fill, essay = questions_of(result)
    assert single.stem == "下列不属于党纪处分的是（ ）。"
    assert (single.options, single.answer) == (("警告", "记过", "开除党籍"), "B")
    assert (single.explanation, single.points, single.tags) == (
        "记过是政务处分。",
        2,
        ("纪律处分",),
    )
    assert single.category == ("Default for 党纪学习", "纪律处分条例")
    assert (multiple.type, multiple.answer, multiple.points) == ("multiple", ("A", "C"), 3)
    assert (true_false.type, true_false.answer) == ("true_false", True)
    assert (fill.type, fill.answer, fill.case_sensitive) == ("fill_blank", (("一", "1"),), False)
    assert essay.answer == "警告、严重警告、撤销党内职务、留党察看、开除党籍。"
    assert result.errors == []


def test_moodle_xml_unsupported_types_are_reported_by_line():
    path = FIXTURES / "moodle_export.xml"
    result = load_questions(path.read_bytes(), "moodle_xml")
    found = [(item.construct, item.line) for item in result.unsupported]
    assert found == [
        ("matching", line_of(path, '<question type="matching">')),
        ("numerical", line_of(path, '<question type="numerical">')),
    ]
    assert "配对题" in result.unsupported[0].message


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<quiz><question type='multichoice'>", "XML格式错误"),
        (b"<?xml version='1.0'?><!DOCTYPE q [<!ENTITY a 'x'>]><quiz>&a;</quiz>", "不安全"),
        (b"<questions/>", "根元素应为<quiz>"),
    ],
)
def test_broken_or_unsafe_moodle_xml_is_an_error(xml, message):
    result = load_questions(xml, "moodle_xml")
    assert message in result.errors[0].message


def test_moodle_xml_answer_without_right_option_is_an_error_at_its_line():
    xml = """<quiz>
<question type="multichoice"><questiontext format="plain_text"><text>题</text></questiontext>
<single>true</single>
<answer fraction="0"><text>甲</text></answer><answer fraction="0"><text>乙</text></answer>
</question></quiz>""".encode()
    result = load_questions(xml, "moodle_xml")
    assert result.errors[0].line == 2
    assert "单选题的答案" in result.errors[0].message


# --- GIFT -----------------------------------------------------------------------


def test_gift_export_is_read_type_by_type():
    path = FIXTURES / "moodle_export.gift"
    result = load_questions(path.read_bytes(), filename=path.name)
    single, multiple, true_false, fill, essay, escaped = questions_of(result)
    assert (single.stem, single.answer, single.explanation) == (
        "下列不属于党纪处分的是（ ）。",
        "B",
        "记过是政务处分。",
    )
    assert single.options == ("警告", "记过", "开除党籍")
    assert single.category == ("Default for 党纪学习", "纪律处分条例")
    assert (multiple.type, multiple.answer) == ("multiple", ("A", "C"))
    assert (true_false.answer, fill.answer, essay.type) == (True, (("一", "1"),), "short_answer")
    assert escaped.stem == "比例 1:2 中的符号~和=怎么读？"
    assert escaped.options == ("冒号: 波浪~", "都不读")
    assert result.errors == []
    assert [w.line for w in result.warnings] == [line_of(path, "::处分种类::")]


def test_gift_unsupported_constructs_are_reported_by_line():
    path = FIXTURES / "moodle_export.gift"
    result = load_questions(path.read_bytes(), "gift")
    found = [(item.construct, item.line) for item in result.unsupported]
    assert found == [
        ("matching", line_of(path, "::配对::")),
        ("numerical", line_of(path, "::数值::")),
    ]


def test_gift_missing_word_keeps_a_blank_in_the_stem():
    result = load_questions("预备党员的预备期为{=一 =1}年。".encode(), "gift")
    assert questions_of(result)[0].stem == "预备党员的预备期为____年。"


def test_gift_reads_tags_and_multiline_questions():
    text = "// [tag:党章]\n第一行\n第二行{\n=甲\n~乙\n}\n\n说明文字，没有答案\n"
    result = load_questions(text.encode(), "gift")
    (question,) = questions_of(result)
    assert (question.stem, question.tags) == ("第一行\n第二行", ("党章",))
    assert [(u.construct, u.line) for u in result.unsupported] == [("description", 8)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("题目{=甲 ~乙", "缺少"),
        ("题目{=甲 =乙 ~丙}", "只能有一个“=”"),
        ("题目{甲 ~乙}", "应以“=”或“~”开头"),
    ],
)
def test_malformed_gift_is_reported_with_its_line(text, message):
    result = load_questions(f"// 注释\n\n{text}\n".encode(), "gift")
    assert result.errors[0].line == 3
    assert message in result.errors[0].message


def test_gift_refuses_to_export_what_it_cannot_hold(make_question):
    questions = [make_question("single"), make_question("fill_blank")]
    assert [p.index for p in export_problems(questions, "gift")] == [1]
    with pytest.raises(ExportError, match="第2题：GIFT的填空题只能有一个空"):
        dump_questions(questions, "gift")


# --- Aiken ----------------------------------------------------------------------

AIKEN = """预备党员的预备期为多长时间？
A. 半年
B) 一年
Ｃ． 两年
ANSWER: B

第二题
A、甲
B、乙
ANSWER: A
"""


def test_aiken_is_read():
    result = load_questions(AIKEN.encode(), filename="bank.txt")
    first, second = questions_of(result)
    assert (first.options, first.answer) == (("半年", "一年", "两年"), "B")
    assert (second.stem, second.answer) == ("第二题", "A")
    assert [p.line for p in result.questions] == [1, 7]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("题\nA. 甲\nB. 乙\nANSWER: AB\n", 4, "Aiken只支持单选题"),
        ("题\nA. 甲\nB. 乙\nANSWER: D\n", 1, "不是选项字母"),
        ("题\nA. 甲\nC. 乙\nANSWER: A\n", 1, "从A起按顺序"),
        ("题\nA. 甲\nB. 乙\n", 1, "缺少“ANSWER"),
        ("题\nA. 甲\nB. 乙\n下一题\nANSWER: A\n", 4, "请补上答案行"),
    ],
)
def test_malformed_aiken_is_reported_by_line(text, line, message):
    result = load_questions(text.encode(), "aiken")
    assert (result.errors[0].line, message in result.errors[0].message) == (line, True)


# --- Excel ----------------------------------------------------------------------


def build_xlsx(rows, *, title=True) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        sheet = workbook.add_worksheet()
        start = 0
        if title:
            sheet.merge_range(0, 0, 0, len(HEADER) - 1, "2024年党纪学习教育题库")
            start = 2
        sheet.write_row(start, 0, HEADER)
        for offset, row in enumerate(rows, start=start + 1):
            if row is not None:
                sheet.write_row(offset, 0, row)
    return buffer.getvalue()


def test_xlsx_with_title_row_blank_rows_and_numbers():
    rows = [
        [
            1,
            "单选题",
            "记过属于党纪处分吗？",
            "属于",
            "不属于",
            "",
            "",
            "b",
            "",
            2.0,
            "易",
            "党纪/条例",
            "第八条",
        ],
        None,
        [2, "判断", "预备期为一年。", "", "", "", "", 1, "", 1, "", "", ""],
        [3, "填空题", "预备期为____年。", "", "", "", "", 1, "", 2.5, 3, "党纪 > 党章", ""],
        [
            4,
            "多项选择题",
            "党纪处分有（ ）。",
            "警告",
            "降级",
            "开除党籍",
            "",
            "A，C",
            "",
            "",
            "5",
            "",
            "",
        ],
        None,
        None,
    ]
    result = load_questions(build_xlsx(rows), filename="题库.xlsx")
    single, true_false, fill, multiple = questions_of(result)
    assert (single.answer, single.points, single.difficulty, single.category) == (
        "B",
        2,
        "easy",
        ("党纪", "条例"),
    )
    assert (true_false.answer, fill.answer, fill.points) == (True, (("1",),), Decimal("2.5"))
    assert (fill.difficulty, fill.category, multiple.answer, multiple.difficulty) == (
        "medium",
        ("党纪", "党章"),
        ("A", "C"),
        "hard",
    )
    assert [p.line for p in result.questions] == [4, 6, 7, 8]
    assert result.errors == [] and result.warnings == []


def test_xlsx_merged_cells_apply_to_every_merged_row():
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["题库导出"])
    sheet.merge_cells("A1:E1")
    sheet.append(["题型", "题干", "答案", "分类", "出处"])
    sheet.append(["判断题", "预备期为一年。", "对", "党章", "第七条"])
    sheet.append([None, "预备期为两年。", "错", None, "第七条"])
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("D3:D4")
    workbook.save(buffer)
    result = load_questions(buffer.getvalue(), "xlsx")
    assert [(q.answer, q.category) for q in questions_of(result)] == [
        (True, ("党章",)),
        (False, ("党章",)),
    ]


def test_xlsx_row_errors_name_row_column_and_fix():
    rows = [
        [1, "单选题", "题", "甲", "乙", "", "", "E", "", "", "", "", ""],
        [2, "选择题", "题", "甲", "乙", "", "", "A", "", "", "", "", ""],
        [3, "单选题", "题", "甲", "", "丙", "", "A", "", "", "", "", ""],
        [4, "判断题", "题", "", "", "", "", "大概", "", "", "", "", ""],
        [5, "单选题", "题", "甲", "乙", "", "", "A", "", "两分", "", "", ""],
        [6, "单选题", "", "甲", "乙", "", "", "A", "", "", "", "", ""],
    ]
    result = load_questions(build_xlsx(rows, title=False), "xlsx")
    assert result.questions == []
    found = [(e.line, e.column) for e in result.errors]
    assert found == [(2, ""), (3, "题型"), (4, "选项B"), (5, "答案"), (6, "分值"), (7, "")]
    assert str(result.errors[1]).startswith("第3行“题型”列：题型“选择题”无法识别，请填写单选题")
    assert "A到B之间" in result.errors[0].message
    assert result.errors[-1].message == "题干为空，请填写题干"


def test_xlsx_without_header_is_one_error():
    result = load_questions(_plain_xlsx(), "xlsx")
    assert [e.location for e in result.errors] == ["文件"]


def _plain_xlsx() -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        workbook.add_worksheet().write_row(0, 0, ["姓名", "工号"])
    return buffer.getvalue()


def test_not_an_excel_file_is_an_error_not_a_crash():
    result = load_questions(b"PK\x03\x04 not really", "xlsx")
    assert "无法读取Excel文件" in result.errors[0].message


def test_xlsx_export_quotes_formula_like_text(make_question):
    question = make_question("single", stem='=HYPERLINK("http://x")', options=("+1", "-1"))
    data = dump_questions([question], "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["B2"].data_type == "s" and sheet["B2"].quotePrefix
    assert questions_of(load_questions(data, "xlsx")) == [question]


def test_unknown_column_is_a_warning(make_question):
    data = "题型,题干,答案,备注\n判断题,题,对,内部使用\n".encode()
    result = load_questions(data, "csv")
    assert [(w.line, w.column) for w in result.warnings] == [(1, "备注")]


# --- CSV ------------------------------------------------------------------------

CSV_TEXT = (
    "序号,题型,题干,选项A,选项B,答案,分类\n"
    "1,单选题,党的最高领导机关是？,全国代表大会,中央委员会,A,党章\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(encoding):
    result = load_questions(CSV_TEXT.encode(encoding), filename="bank.csv")
    (question,) = questions_of(result)
    assert (question.stem, question.options[0]) == ("党的最高领导机关是？", "全国代表大会")


def test_csv_export_neutralises_formulas_and_import_restores_them(make_question):
    question = make_question("single", stem="-5的绝对值是多少？", options=("=5", "@5", "'5"))
    data = dump_questions([question], "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'-5的绝对值" in data.decode("utf-8-sig") and ",'=5," in data.decode("utf-8-sig")
    assert questions_of(load_questions(data, "csv")) == [question]


def test_undecodable_csv_is_an_error():
    result = load_questions(b"\xff\xff\x81\x30\xff", "csv")
    assert "无法识别文件编码" in result.errors[0].message


def test_default_category_fills_in_missing_categories():
    data = "题型,题干,答案\n判断题,题,对\n".encode()
    (question,) = questions_of(load_questions(data, "csv", default_category=["导入", "未分类"]))
    assert question.category == ("导入", "未分类")


# --- detection and the sample bank ---------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("a.XLSX", b"", "xlsx"),
        ("a.csv", b"", "csv"),
        ("a.gift", b"", "gift"),
        ("a.xml", b"", "moodle_xml"),
        (None, b"PK\x03\x04...", "xlsx"),
        ("a.txt", b'<?xml version="1.0"?>\n<quiz>', "moodle_xml"),
        ("a.txt", "题型,题干,答案\n".encode("gbk"), "csv"),
        ("a.txt", AIKEN.encode(), "aiken"),
        ("a.txt", b"$CATEGORY: $course$/top\n\nQ{T}", "gift"),
    ],
)
def test_detect_format(filename, data, expected):
    assert detect_format(filename, data) == expected


def test_undetectable_and_unknown_formats_raise():
    with pytest.raises(FormatError, match="无法识别文件格式"):
        detect_format("notes.txt", "随便写的文字".encode())
    with pytest.raises(FormatError, match="未知格式"):
        load_questions(b"", "docx")


def test_sample_bank_loads_cleanly_and_cites_its_sources():
    questions = load_sample_bank()
    assert questions, "question_bank/data/sample_bank.csv is missing or empty"
    assert all(question.source for question in questions)


def test_template_has_one_valid_example_per_type():
    result = load_questions(xlsx_template(), filename="模板.xlsx")
    assert result.ok and result.warnings == []
    types = [parsed.question.type for parsed in result.questions]
    assert sorted(types) == sorted(QUESTION_TYPES)
    assert all(parsed.question.source for parsed in result.questions)


def test_export_error_lists_a_few_and_keeps_them_all(make_question):
    questions = [make_question("fill_blank")] * 8
    with pytest.raises(ExportError) as error:
        dump_questions(questions, "gift")
    assert len(error.value.problems) == 8
    assert str(error.value).startswith("有8道题无法导出为gift：第1题：")
    assert "第6题" not in str(error.value)


def test_five_thousand_questions_survive_an_xlsx_round_trip():
    """Correctness at the issue's size; the time it takes is measured in
    bench/bench_question_bank.py (library parse and the app's import), not here."""
    questions = (load_sample_bank() * 40)[:5000]
    result = load_questions(dump_questions(questions, "xlsx"), "xlsx")
    assert result.ok
    assert [parsed.question for parsed in result.questions] == questions


def test_gift_category_line_right_after_a_question_applies_to_the_next_one():
    text = "$CATEGORY: 甲\n题一{T}\n$CATEGORY: 乙\n题二{F}\n"
    result = load_questions(text.encode(), "gift")
    assert [q.category for q in questions_of(result)] == [("甲",), ("乙",)]
