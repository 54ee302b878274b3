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
    return buffer.getvalue()
