"""The Excel template users download, fill in and import."""

from __future__ import annotations

import io

import xlsxwriter

from question_bank.formats.xlsx import write_sheet
from question_bank.types import Difficulty, Question, QuestionType

_DISCIPLINE = ("党纪党规", "纪律处分条例")
_CHARTER = ("党纪党规", "党章")
_KINDS = "警告、严重警告、撤销党内职务、留党察看、开除党籍"

EXAMPLES: tuple[Question, ...] = (
    Question(
        type=QuestionType.SINGLE,
        stem="根据《中国共产党纪律处分条例》，下列不属于对党员的纪律处分种类的是（ ）。",
        options=("警告", "严重警告", "记过", "开除党籍"),
        answer="C",
        explanation=f"对党员的纪律处分种类为{_KINDS}。记过是政务处分的种类，不是党纪处分。",
        difficulty=Difficulty.EASY,
        category=_DISCIPLINE,
        tags=("纪律处分",),
        source="《中国共产党纪律处分条例》第八条",
    ),
    Question(
        type=QuestionType.MULTIPLE,
        stem="根据《中国共产党纪律处分条例》，对党员的纪律处分种类包括（ ）。",
        options=("警告", "严重警告", "降级", "留党察看", "开除党籍"),
        answer=("A", "B", "D", "E"),
        explanation=f"第八条规定的五种处分是{_KINDS}；降级是政务处分。",
        category=_DISCIPLINE,
        tags=("纪律处分",),
        source="《中国共产党纪律处分条例》第八条",
    ),
    Question(
        type=QuestionType.TRUE_FALSE,
        stem="预备党员的预备期为一年。",
        answer=True,
        explanation="党章第七条规定：预备党员的预备期为一年。",
        difficulty=Difficulty.EASY,
        category=_CHARTER,
        source="《中国共产党章程》第七条",
    ),
    Question(
        type=QuestionType.FILL_BLANK,
        stem="预备党员的预备期为____年。预备党员的权利，除了没有____、选举权和被选举权以外，"
        "也同正式党员一样。",
        answer=(("一", "1"), ("表决权",)),
        explanation="见党章第七条。答案中“|”分隔各空，“/”分隔同一空的多个正确答案。",
        category=_CHARTER,
        source="《中国共产党章程》第七条",
    ),
    Question(
        type=QuestionType.SHORT_ANSWER,
        stem="简述《中国共产党纪律处分条例》规定的对党员的纪律处分种类。",
        answer=f"对党员的纪律处分种类有五种：{_KINDS}。",
        explanation="简答题由阅卷人评分，关键词供阅卷参考。",
        points=10,
        difficulty=Difficulty.HARD,
        category=_DISCIPLINE,
        source="《中国共产党纪律处分条例》第八条",
        keywords=("警告", "严重警告", "撤销党内职务", "留党察看", "开除党籍"),
    ),
)

INSTRUCTIONS: tuple[tuple[str, str], ...] = (
    ("题型", "单选题、多选题、判断题、填空题、简答题（也可写单选、多项选择题、是非题、问答题等）"),
    ("题干", "必填。填空题的空用____表示"),
    ("选项A–选项H", "单选题、多选题填写2到8个选项，从A起连续填写；其他题型留空"),
    (
        "答案",
        "单选：一个字母，如A；多选：如ABD、A,B,D或A、B、D；判断：正确/错误（也可写对/错、√/×）；"
        "填空：各空用“|”分隔，同一空的多个正确答案用“/”分隔，如“一/1|表决权”；简答：参考答案，可留空",
    ),
    ("解析", "选填，交卷后显示给答题人"),
    ("分值", "选填，默认2分，最多两位小数"),
    ("难度", "易、中、难（也可写1到5），默认中"),
    ("分类", "多级分类用“/”分隔，如“党纪党规/纪律处分条例”"),
    ("标签", "多个标签用“、”分隔"),
    ("出处", "依据的条文，如《中国共产党纪律处分条例》第八条"),
    ("关键词", "简答题的评分关键词，用“、”分隔"),
    ("区分大小写", "填空题答案是否区分英文大小写：是/否，默认否"),
    ("其他", "第一行可以是标题；空行会被跳过；可以有“序号”列。请删除示例题后再导入。"),
    ("其他格式", "选项写在一个单元格中、题型用数字代码、用“选项A是否正确”列标出答案的表格也能导入，"
     "见“其他可接受的格式”工作表"),
)

#: Other layouts the importer reads: (title, how, header, example rows). A test imports
#: every one of them, so what the template shows is what the importer accepts.
LAYOUTS: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = (
    (
        "格式一：选项写在一个单元格中",
        "“可选项”（或“选项”“备选项”）列中用 ; ； | 或换行分隔各选项，可带“A.”前缀；"
        "多选题答案可连写，如“ABCD”",
        ("题目类型", "题干", "可选项", "正确答案", "答案解析", "难易程度"),
        (
            ("单选题", "预备党员的预备期为（ ）。", "A.半年;B.一年;C.两年", "B", "见党章第七条",
             "易"),
            ("多选题", "对党员的纪律处分种类包括（ ）。", "警告|严重警告|降级|开除党籍", "ABD", "",
             "中"),
        ),
    ),
    (
        "格式二：题型用数字代码，答案用“选项A是否正确”列",
        "常见代码：1=单选题，2=多选题，3=判断题，4=填空题，5=简答题。各系统的代码不同，"
        "导入时会显示推测的对应关系，请在预览页确认；命令行导入请加 --type-codes "
        "1=single,2=multiple,3=true_false,4=fill_blank,5=short_answer。"
        "“是否正确”列填1（正确）或0（错误），此时“正确答案”列可留空",
        ("题型", "题干", "选项一内容", "选项二内容", "选项三内容", "选项A是否正确", "选项B是否正确",
         "选项C是否正确", "正确答案", "试题解析"),
        (
            ("1", "预备党员的预备期为（ ）。", "半年", "一年", "两年", "0", "1", "0", "", ""),
            ("2", "党的纪律处分包括（ ）。", "警告", "记过", "开除党籍", "1", "0", "1", "", ""),
            ("3", "预备党员的预备期为一年。", "", "", "", "", "", "", "正确", ""),
        ),
    ),
)

#: Read by the importer under these names too (the first of each is the template's).
HEADER_VARIANTS = (
    "题型：题目类型、试题类型",
    "题干：题目、试题内容、题目内容、试题题干",
    "选项A…选项H：A…H、选项一…选项八、选项一内容…选项八内容",
    "答案：正确答案、参考答案、标准答案",
    "解析：答案解析、试题解析、题目解析",
    "难度：难易程度、难度等级",
    "列名中的“(必填)”“*”、全角括号、空格和换行不影响识别",
)

REFUSED = (
    "排序题、配对题（连线题）、完形填空、组合题（材料题、案例分析题）、计算题：题库不支持，"
    "这些行不导入",
    "每个选项占一行的格式（有“是否正确”“选项序号”等列、没有选项字母）：请改为每道题一行，"
    "按上面的任一格式填写",
)


def xlsx_template() -> bytes:
    """An .xlsx with the import headers, one correct example per type, and instructions."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        write_sheet(workbook, "题库", EXAMPLES)
        sheet = workbook.add_worksheet("填写说明")
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 90)
        sheet.write_row(0, 0, ("列名", "填写方法"), bold)
        for row, (column, how) in enumerate(INSTRUCTIONS, start=1):
            sheet.write_string(row, 0, column, bold)
            sheet.write_string(row, 1, how, wrap)
        _write_layouts(workbook.add_worksheet("其他可接受的格式"), bold)
    return buffer.getvalue()


def _write_layouts(sheet, bold) -> None:  # type: ignore[no-untyped-def]
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 9, 14)
    row = 0
    for title, how, header, examples in LAYOUTS:
        sheet.write_string(row, 0, title, bold)
        sheet.write_string(row + 1, 0, how)
        sheet.write_row(row + 2, 0, header, bold)
        for offset, example in enumerate(examples, start=3):
            sheet.write_row(row + offset, 0, example)
        row += len(examples) + 4
    sheet.write_string(row, 0, "也可使用的列名", bold)
    for offset, text in enumerate(HEADER_VARIANTS, start=1):
        sheet.write_string(row + offset, 0, text)
    row += len(HEADER_VARIANTS) + 2
    sheet.write_string(row, 0, "不能导入", bold)
    for offset, text in enumerate(REFUSED, start=1):
        sheet.write_string(row + offset, 0, text)
