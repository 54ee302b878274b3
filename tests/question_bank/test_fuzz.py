"""Whatever bytes an upload holds, ``load_questions`` answers with questions or with the
library's own reports (``ImportResult.errors`` and friends, or a ``QuestionBankError``):
never another exception, which the import page would turn into a 500."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from question_bank import FORMATS, ImportResult, QuestionBankError, load_questions

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Pieces each format gives meaning to, so that random texts reach the parsers' corners
# rather than stopping at the first line.
GIFT_TOKENS = ["::", "::t::", "{", "}", "=", "~", "#", "####", "%50%", "%-100%", "%100%",
               "->", "T", "FALSE", "$CATEGORY: ", "$course$/top/", "// [tag:a]", "//",
               "[html]", "[markdown]", "<b>", "<img src=x>", "\\", "\\{", "\\n", "\n", "\n\n",
               " ", "题", "a", "b"]
AIKEN_TOKENS = ["A. ", "B) ", "C、", "Ｄ．", "H. ", "I. ", "Z. ", "ANSWER: ", "ANSWER:A",
                "answer: b", "ANSWER: AB", "ANSWER: ", "\n", "\n\n", " ", "题", "x"]
XML_TOKENS = ['<?xml version="1.0"?>', '<?xml version="1.0" encoding="gbk"?>',
              '<?xml version="1.0" encoding="utf-16"?>', '<?xml version="1.0" encoding="x"?>',
              "<quiz>", "</quiz>", '<question type="multichoice">', '<question type="truefalse">',
              '<question type="shortanswer">', '<question type="essay">',
              '<question type="category">', '<question type="matching">', "</question>",
              "<questiontext><text>", "</text></questiontext>", '<answer fraction="100">',
              '<answer fraction="-50">', '<answer fraction="x">', "<text>", "</text>",
              "</answer>", "<single>false</single>", "<single>true</single>",
              "<defaultgrade>", "</defaultgrade>", "1e9", "-1", "NaN", "<usecase>1</usecase>",
              "<category><text>$course$/top/a</text></category>", "<tags><tag><text>t",
              "</text></tag></tags>", "&amp;", "&lt;b&gt;", "<![CDATA[<p>x</p>]]>", "题", " "]
CSV_TOKENS = ["题型,题干,选项A,选项B,答案,分值,难度,分类,解析\n", "题型\t题干\t答案\n", ",", "\t",
              "\n", '"', "单选题", "多选题", "判断题", "填空题", "简答题", "A", "ABD", "对",
              "错", "x|y", "a/b", "1e999", "NaN", "-3", "1001", "难", "分类/子类", "'=1", "=1",
              "题", " "]


def texts(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(tokens), st.text(max_size=5)),
                    max_size=40).map("".join)


def encoded(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return st.tuples(strategy, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])
                     ).map(lambda pair: pair[0].encode(pair[1], errors="replace"))


def check(data: bytes, format: str | None, filename: str | None = None) -> None:
    try:
        result = load_questions(data, format, filename)
    except QuestionBankError:
        return
    assert isinstance(result, ImportResult)


@pytest.mark.parametrize("data, filename, message", [
    (b"::a::q{~a ~b ~c ~d ~e ~f ~g ~h =i}", "q.gift", "选择题最多8个选项，这道题有9个"),
    (b'<?xml version="1.0" encoding="x-bogus"?><quiz/>', "q.xml", "编码“x-bogus”无法识别"),
    (b'<?xml version="1.0" encoding="rot13"?><quiz/>', "q.xml", "不是XML声明的编码“rot13”"),
    (b'<?xml version="1.0" encoding="utf-32"?><quiz/>', "q.xml", "不是XML声明的编码“utf-32”"),
])
def test_the_inputs_that_gave_a_500_are_reported(data, filename, message):
    result = load_questions(data, filename=filename)
    assert not result.questions and message in str(result.errors[0])


def test_xml_in_the_encoding_it_declares_is_read():
    xml = ('<?xml version="1.0" encoding="GBK"?>\n<quiz>\n<question type="truefalse">'
           '<questiontext format="plain_text"><text>入党誓词共80字。</text></questiontext>'
           '<answer fraction="100"><text>true</text></answer></question></quiz>')
    result = load_questions(xml.encode("gbk"), filename="q.xml")
    assert [(p.question.stem, p.line) for p in result.questions] == [("入党誓词共80字。", 3)]


@pytest.mark.parametrize("format", [*FORMATS, None])
@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_never_raise_a_foreign_exception(format, data):
    check(data, format, "upload.bin")


@pytest.mark.parametrize("format, tokens", [
    ("gift", GIFT_TOKENS), ("aiken", AIKEN_TOKENS), ("moodle_xml", XML_TOKENS),
    ("csv", CSV_TOKENS), (None, GIFT_TOKENS + AIKEN_TOKENS + XML_TOKENS + CSV_TOKENS)])
@SETTINGS
@given(data=st.data())
def test_texts_built_from_each_formats_syntax_never_raise(format, tokens, data):
    check(data.draw(encoded(texts(tokens))), format)


def workbook(sheet_xml: str, shared_strings: str | None = None) -> bytes:
    """A minimal .xlsx around one sheet's XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            book.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
    'sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    'sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    '</Relationships>')
CELL_REFS = ["A1", "B2", "H1", "A2", "Z9", "AA1", "XFD1", "A1048576", "A0", "0", "", "1A",
             "a1", "A-1", "A99999999999999999999"]
CELL_TYPES = ["", ' t="s"', ' t="str"', ' t="inlineStr"', ' t="b"', ' t="e"', ' t="n"',
              ' t="d"', ' t="x"']
VALUES = ["0", "1", "-1", "2.5", "1e308", "NaN", "x", "题型", "单选题", "99999999", "", "TRUE"]


@st.composite
def sheets(draw) -> str:
    """Sheet XML whose cells have random references, types and values."""
    cells = []
    for _ in range(draw(st.integers(0, 8))):
        ref = draw(st.sampled_from(CELL_REFS))
        kind = draw(st.sampled_from(CELL_TYPES))
        value = draw(st.sampled_from(VALUES))
        body = (f"<is><t>{value}</t></is>" if kind == ' t="inlineStr"' else f"<v>{value}</v>")
        cells.append(f'<c r="{ref}"{kind}>{body}</c>' if ref else f"<c{kind}>{body}</c>")
    dimension = draw(st.sampled_from(["", '<dimension ref="A1"/>', '<dimension ref="A1:XFD1"/>',
                                      '<dimension ref="bogus"/>']))
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dimension}'
            f'<sheetData><row r="1">{"".join(cells)}</row></sheetData></worksheet>')


SHARED_STRINGS = [None, f'<sst xmlns="{MAIN_NS}"/>',
                  f'<sst xmlns="{MAIN_NS}"><si><t>题型</t></si><si><t>x</t></si></sst>',
                  "not xml", f'<sst xmlns="{MAIN_NS}"><si><r><t>a</t></r></si>']


@SETTINGS
@given(sheet=sheets(), shared=st.sampled_from(SHARED_STRINGS))
def test_workbooks_with_random_cells_never_raise(sheet, shared):
    check(workbook(sheet, shared), "xlsx", "bank.xlsx")
