"""Rows of text cells <-> questions, in the shape Chinese exam tools use (xlsx and csv).

Headers are found in the first rows (a title row above them is fine), in any order,
under the common names: 题型/题目类型; 题干/题目/试题内容; 选项A…选项H (or A…H,
选项一…选项八, 选项一内容); 答案/正确答案/参考答案; 解析/答案解析/试题解析; 分值/分数;
难度/难易程度; 分类/知识点/题库分类 (a path split by "/" or ">"); 标签; 出处/来源/依据;
关键词 (简答题); 区分大小写 (填空题). A 序号 column is ignored; blank rows are skipped.
Decorations never hide a header: ``题干(必填)``, ``*答案``, full-width brackets, spaces
and line breaks inside the cell.

The three layouts Chinese exam systems ship are read too:

- options packed into one cell (``可选项``/``选项``/``备选项``), separated by ; ； | ｜
  or line breaks, each optionally prefixed "A." "A、" "A:" "(A)";
- correctness as one 0/1 flag column per option (``选项A是否正确``, ``A是否正确``,
  ``选项一是否正确``), used when the 答案 cell is empty (both given must agree);
- the type as a numeric code (1, 2, 3 …). Codes differ between systems: the caller
  passes the mapping (``type_codes``), or the reader guesses it from the rows
  (options? one letter or several? 对/错?) and says so, and the importer confirms it.

Refused with a message naming the column and the layout expected: 排序题 and other
types the bank has no place for (per row), and the long format with one row per option
(a ``是否正确`` or ``选项序号`` column without an option letter: the whole file).

Answers: 单选 one letter; 多选 letters written "ABD", "A,B,D", "A、B、D" or "A B D";
判断 any spelling ``parse_true_false`` reads; 填空 blanks split by "|" or ";" (also
full-width ｜；) and accepted alternatives by "/"; 简答 the reference answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from question_bank.formats.base import ImportIssue, ImportResult, UnsupportedItem
from question_bank.normalize import clean_header, parse_letters, parse_true_false
from question_bank.types import (
    DEFAULT_POINTS,
    DIFFICULTY_LABELS,
    MAX_OPTIONS,
    OPTION_LETTERS,
    QUESTION_TYPES,
    Answer,
    Difficulty,
    Question,
    QuestionType,
)

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "type": ("题型", "题目类型", "试题类型", "类型"),
    "stem": ("题干", "题目", "试题内容", "题目内容", "试题", "问题", "试题题干", "题干内容"),
    "packed_options": ("可选项", "选项", "选项内容", "备选项", "备选答案", "答案选项", "选项列表"),
    "answer": ("答案", "正确答案", "参考答案", "标准答案"),
    "explanation": ("解析", "答案解析", "试题解析", "题目解析"),
    "points": ("分值", "分数"),
    "difficulty": ("难度", "难易程度", "难度等级"),
    "category": ("分类", "知识点", "题库分类", "所属分类", "试题分类"),
    "tags": ("标签",),
    "source": ("出处", "来源", "依据", "出处依据"),
    "keywords": ("关键词", "关键字"),
    "case_sensitive": ("区分大小写",),
    "number": ("序号", "编号", "题号"),
}
EXPORT_HEADERS: tuple[str, ...] = (
    "题型", "题干", *(f"选项{letter}" for letter in OPTION_LETTERS), "答案", "解析",
    "分值", "难度", "分类", "标签", "出处", "关键词", "区分大小写",
)  # fmt: skip
TYPE_ALIASES: dict[str, QuestionType] = {
    alias: qtype
    for qtype, aliases in {
        QuestionType.SINGLE: "单选题 单选 单项选择题 单项选择 单选择题",
        QuestionType.MULTIPLE: "多选题 多选 多项选择题 多项选择 不定项选择题 不定项选择 不定项",
        QuestionType.TRUE_FALSE: "判断题 判断 是非题 对错题",
        QuestionType.FILL_BLANK: "填空题 填空",
        QuestionType.SHORT_ANSWER: "简答题 简答 问答题 问答 论述题 论述",
    }.items()
    for alias in (qtype.value, *aliases.split())
}
DIFFICULTY_ALIASES: dict[str, Difficulty] = {
    alias: difficulty
    for difficulty, aliases in {
        Difficulty.EASY: "易 简单 容易 较易 1 2",
        Difficulty.MEDIUM: "中 一般 中等 适中 普通 3",
        Difficulty.HARD: "难 困难 较难 很难 4 5",
    }.items()
    for alias in (difficulty.value, *aliases.split())
}
_OPTION_HEADER = re.compile(r"(?:选项)?([A-H1-8一二三四五六七八])(?:内容)?")
_FLAG_HEADER = re.compile(
    r"(?:选项)?([A-H1-8一二三四五六七八])(?:是否|是不是)?(?:为)?正确(?:答案)?"
)
#: Columns of the long format (one row per option), which is refused.
LONG_FORMAT_HEADERS = ("是否正确", "是否正确答案", "是否为正确答案", "正确与否", "选项序号",
                       "选项标识", "选项编号", "选项字母")  # fmt: skip
#: Types that some systems have and the bank cannot hold: refused per row, by name.
UNSUPPORTED_TYPE_NAMES: dict[str, str] = {
    alias: name
    for name, aliases in {
        "排序题": "排序题 排序",
        "配对题": "配对题 匹配题 连线题 配对 匹配 连线",
        "完形填空": "完形填空 完形填空题",
        "组合题": "组合题 材料题 阅读理解 案例分析题 案例题 综合题",
        "计算题": "计算题 计算",
    }.items()
    for alias in aliases.split()
}
#: The codes most systems use; a guess from the rows overrides them.
COMMON_TYPE_CODES: dict[str, QuestionType] = {
    "1": QuestionType.SINGLE,
    "2": QuestionType.MULTIPLE,
    "3": QuestionType.TRUE_FALSE,
    "4": QuestionType.FILL_BLANK,
    "5": QuestionType.SHORT_ANSWER,
}
_TYPE_CODE = re.compile(r"\d{1,3}")
_PACKED_SPLIT = re.compile(r"[;；|｜]")
_OPTION_PREFIX = re.compile(r"^(?:[(（]([A-Ha-h])[)）]|([A-Ha-h])\s*[.．、:：)）])\s*")
_OPTION_INDEX = {
    c: i for part in ("ABCDEFGH", "12345678", "一二三四五六七八") for i, c in enumerate(part)
}
_BLANK_SPLIT = re.compile(r"[|｜;；]")
_ALTERNATIVE_SPLIT = re.compile(r"[/／]")
_LIST_SPLIT = re.compile(r"[、,，;；|｜]")
_CATEGORY_SPLIT = re.compile(r"[/／>＞]")
_POINTS_SUFFIX = re.compile(r"分$")
Report = Callable[[str, str, str], None]  # (column, value, message)
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_HEADER_SCAN_ROWS = 20


@dataclass(frozen=True)
class Columns:
    """Where each field is: ``fields`` maps a field name to its column index."""

    fields: dict[str, int]
    options: tuple[int | None, ...]
    header_row: int
    #: 0/1 columns saying whether option A, B … is right (``选项A是否正确``).
    flags: tuple[int | None, ...] = ()

    def content_indexes(self) -> list[int]:
        """The columns whose cells make a row worth reading (all but 序号)."""
        options = [index for index in (*self.options, *self.flags) if index is not None]
        return [index for name, index in self.fields.items() if name != "number"] + options


NO_HEADER = ImportIssue(None, "找不到表头：前20行中应有一行包含“题型”“题干”“答案”等列名")


def read_rows(
    rows: Sequence[Sequence[str]],
    default_category: tuple[str, ...],
    type_codes: Mapping[str, str] | None = None,
) -> ImportResult | None:
    """Turn rows of text cells into questions; row ``i`` (0-based) is reported as line i+1.

    :param type_codes: what each numeric code of the 题型 column means (code →
        QuestionType value); guessed from the rows when None and codes are found.
    :return: the report, or ``None`` when no header row is found.
    """
    result = ImportResult()
    columns = find_header(rows, result)
    if columns is None:
        return None
    if _refuse_long_format(rows[columns.header_row], result):
        return result
    content = columns.content_indexes()
    body = [
        (number, row)
        for number, row in enumerate(rows[columns.header_row + 1 :], start=columns.header_row + 2)
        if any(index < len(row) and row[index].strip() for index in content)
    ]
    codes = _resolve_type_codes(body, columns, type_codes, result)
    for number, row in body:
        _read_row(row, number, columns, default_category, result, codes)
    return result


def _refuse_long_format(header: Sequence[str], result: ImportResult) -> bool:
    """One row per option (a 是否正确 column without a letter) is refused, naming it."""
    for cell in header:
        if _clean_header(cell) in LONG_FORMAT_HEADERS:
            message = (
                "这一列说明文件是“每个选项占一行”的格式，题库不支持；请改为每道题一行："
                "选项放在“选项A”…“选项H”列（或放在一个“可选项”列中，用“;”分隔），"
                "正确答案写在“答案”列（如“ABD”），或写在“选项A是否正确”…列中（填1或0）。"
                "可下载导入模板查看示例"
            )
            result.errors.append(ImportIssue(None, message, cell.strip()))
            return True
    return False


def find_header(rows: Sequence[Sequence[str]], result: ImportResult) -> Columns | None:
    """Find the header row; unknown or repeated column names become warnings."""
    for position, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        fields, options, flags, ignored = _map_header(row)
        has_flags = any(index is not None for index in flags)
        if "stem" in fields and ("type" in fields or "answer" in fields or has_flags):
            message = "未识别或重复的列，该列内容不会导入；如需导入请改用标准列名"
            ignored = [name for name in ignored if _clean_header(name) not in LONG_FORMAT_HEADERS]
            result.warnings.extend(ImportIssue(position + 1, message, name) for name in ignored)
            return Columns(fields, tuple(options), position, tuple(flags) if has_flags else ())
    return None


def _map_header(
    row: Sequence[str],
) -> tuple[dict[str, int], list[int | None], list[int | None], list[str]]:
    fields: dict[str, int] = {}
    options: list[int | None] = [None] * MAX_OPTIONS
    flags: list[int | None] = [None] * MAX_OPTIONS
    ignored = []
    for index, cell in enumerate(row):
        name = _clean_header(cell)
        option = _OPTION_HEADER.fullmatch(name)
        flag = _FLAG_HEADER.fullmatch(name)
        if not name:
            continue
        if option and options[_OPTION_INDEX[option[1]]] is None:
            options[_OPTION_INDEX[option[1]]] = index
        elif flag and flags[_OPTION_INDEX[flag[1]]] is None:
            flags[_OPTION_INDEX[flag[1]]] = index
        elif name in _ALIAS_TO_FIELD and _ALIAS_TO_FIELD[name] not in fields:
            fields[_ALIAS_TO_FIELD[name]] = index
        else:
            ignored.append(cell.strip())
    return fields, options, flags, ignored


def _clean_header(cell: str) -> str:
    # The rule both importers share (the roster's too); option letters compare upper-case.
    return clean_header(cell).upper()


def _read_row(
    row: Sequence[str],
    line: int,
    columns: Columns,
    default_category: tuple[str, ...],
    result: ImportResult,
    type_codes: Mapping[str, str] | None = None,
) -> None:
    def cell(name: str) -> str:
        index = columns.fields.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    issues: list[ImportIssue] = []

    def report(column: str, value: str, message: str) -> None:
        issues.append(ImportIssue(line, message, column, value))

    if unsupported := UNSUPPORTED_TYPE_NAMES.get(_type_key(cell("type"))):
        message = (
            f"“题型”列的“{cell('type')}”：{unsupported}题库不支持，这一行未导入；"
            "可导入的题型为单选题、多选题、判断题、填空题、简答题"
        )
        result.unsupported.append(UnsupportedItem(line, unsupported, message))
        return
    qtype = _parse_type(cell("type"), report, type_codes)
    options = _parse_options(row, columns.options, report)
    if not options and cell("packed_options"):
        options = _parse_packed_options(cell("packed_options"), report)
    answer_cell = _answer_with_flags(row, columns.flags, cell("answer"), options, report)
    answer: Answer = ""
    if qtype is QuestionType.TRUE_FALSE and options:
        answer, options = _true_false_with_options(answer_cell, options, report)
    elif qtype is not None:
        answer = _parse_answer(qtype, answer_cell, options, report)
    points = _parse_points(cell("points"), report)
    difficulty = _parse_difficulty(cell("difficulty"), report)
    case_sensitive = _parse_flag(cell("case_sensitive"), report)
    if issues or qtype is None:
        result.errors.extend(issues)
        return
    question = Question(
        type=qtype,
        stem=cell("stem"),
        options=options,
        answer=answer,
        explanation=cell("explanation"),
        category=_split(_CATEGORY_SPLIT, cell("category")) or default_category,
        tags=_split(_LIST_SPLIT, cell("tags")),
        source=cell("source"),
        keywords=_split(_LIST_SPLIT, cell("keywords")),
        points=points,
        difficulty=difficulty,
        case_sensitive=case_sensitive,
    )
    result.add(question, line)


def _type_key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


def _parse_type(
    text: str, report: Report, type_codes: Mapping[str, str] | None = None
) -> QuestionType | None:
    key = _type_key(text)
    if type_codes is not None and _TYPE_CODE.fullmatch(key):
        code = key.lstrip("0") or "0"
        if code in type_codes:
            return QuestionType(type_codes[code])
        report("题型", text, f"题型代码“{text}”不在题型对应关系中，请补上它对应的题型")
        return None
    qtype = TYPE_ALIASES.get(key)
    if qtype is None:
        problem = "题型为空" if not text else f"题型“{text}”无法识别"
        report("题型", text, f"{problem}，请填写单选题、多选题、判断题、填空题或简答题")
    return qtype


def _resolve_type_codes(
    body: Sequence[tuple[int, Sequence[str]]],
    columns: Columns,
    given: Mapping[str, str] | None,
    result: ImportResult,
) -> Mapping[str, str] | None:
    """The code → type mapping for a 题型 column of numeric codes: the caller's, or a
    guess from the rows (reported, to be confirmed); None when the column has no codes."""
    index = columns.fields.get("type")
    if index is None:
        return None
    found: dict[str, list[Sequence[str]]] = {}
    for _, row in body:
        key = _type_key(row[index]) if index < len(row) else ""
        if _TYPE_CODE.fullmatch(key):
            found.setdefault(key.lstrip("0") or "0", []).append(row)
    if not found:
        return given
    if given is not None:
        result.type_codes = {code: given[code] for code in sorted(found, key=int) if code in given}
        return given
    guess = {code: _guess_type(code, rows, columns).value for code, rows in found.items()}
    result.type_codes = dict(sorted(guess.items(), key=lambda item: int(item[0])))
    result.type_codes_guessed = True
    shown = "、".join(
        f"{code}={QUESTION_TYPES[value].label}" for code, value in result.type_codes.items()
    )
    result.warnings.append(
        ImportIssue(
            None,
            f"题型用数字代码填写，按推测的对应关系读取：{shown}。不同系统的代码不同，"
            "请确认对应关系后再导入",
            "题型",
        )
    )
    return guess


def _guess_type(code: str, rows: Sequence[Sequence[str]], columns: Columns) -> QuestionType:
    """What the rows of one code look like: options and one letter → 单选, several
    letters → 多选, 对/错 → 判断, other text → 填空 (short) or 简答 (long or empty)."""
    kinds = set()
    multi = False
    texts = []
    for row in rows:
        def cell(name: str, row: Sequence[str] = row) -> str:
            index = columns.fields.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        ignore: Report = lambda *_: None  # noqa: E731 - the guess reports nothing
        options = _parse_options(row, columns.options, ignore) or (
            _parse_packed_options(cell("packed_options"), ignore)
            if cell("packed_options") else ()
        )
        answer = _answer_with_flags(row, columns.flags, cell("answer"), options, ignore)
        meanings = {parse_true_false(option) for option in options}
        if options and None not in meanings and len(meanings) == len(options) == 2:
            kinds.add("true_false")
        elif len(options) >= 2:
            kinds.add("choice")
            multi = multi or len(parse_letters(answer) or ()) > 1
        elif answer and parse_true_false(answer) is not None and not answer.isdigit():
            kinds.add("true_false")
        else:
            kinds.add("text")
            texts.append(answer)
    common = COMMON_TYPE_CODES.get(code)
    if kinds == {"choice"}:
        if multi or common is QuestionType.MULTIPLE:
            return QuestionType.MULTIPLE
        return QuestionType.SINGLE
    if kinds == {"true_false"}:
        return QuestionType.TRUE_FALSE
    if kinds == {"text"}:
        if common in (QuestionType.FILL_BLANK, QuestionType.SHORT_ANSWER):
            return common
        short = all(text and len(text) <= 30 for text in texts)
        return QuestionType.FILL_BLANK if short else QuestionType.SHORT_ANSWER
    return common or QuestionType.SINGLE


def _parse_packed_options(text: str, report: Report) -> tuple[str, ...]:
    """Options in one cell: split by line breaks, else by ; ； | ｜, with any "A." prefix
    dropped when every option has the prefix of its place."""
    pattern = re.compile(r"\r?\n") if "\n" in text.strip() else _PACKED_SPLIT
    parts = [part.strip() for part in pattern.split(text.strip())]
    while parts and not parts[-1]:
        parts.pop()
    prefixes = [_OPTION_PREFIX.match(part) for part in parts]
    if parts and all(
        match and (match[1] or match[2]).upper() == OPTION_LETTERS[i] and match.end() < len(part)
        for i, (match, part) in enumerate(zip(prefixes, parts, strict=False))
        if i < len(OPTION_LETTERS)
    ):
        parts = [part[match.end() :].strip() for match, part in zip(prefixes, parts, strict=False)]  # type: ignore[union-attr]
    if len(parts) > MAX_OPTIONS:
        report("可选项", text, f"选项最多{MAX_OPTIONS}个，这里分出了{len(parts)}个；"
               "选项之间请用“;”、“|”或换行分隔，选项内容中不要含有这些符号")
        return ()
    if any(not part for part in parts):
        report("可选项", text, "选项中有空项：选项之间只用一个“;”、“|”或换行分隔")
        return ()
    return tuple(parts)


def _answer_with_flags(
    row: Sequence[str],
    flags: Sequence[int | None],
    answer: str,
    options: tuple[str, ...],
    report: Report,
) -> str:
    """The 答案 cell, or the letters whose 是否正确 column says 1 when it is empty."""
    if not any(index is not None for index in flags):
        return answer
    letters = []
    for letter, index in zip(OPTION_LETTERS, flags, strict=False):
        value = row[index].strip() if index is not None and index < len(row) else ""
        if not value:
            continue
        meaning = parse_true_false(value)
        if meaning is None:
            report(f"选项{letter}是否正确", value, f"“{value}”无法识别，请填写1（正确）或0（错误）")
        elif meaning:
            letters.append(letter)
    if not letters or not options:
        return answer
    flagged = "".join(letters)
    if answer and parse_letters(answer) not in (None, tuple(letters)):
        report("答案", answer, f"答案“{answer}”与“是否正确”列（{flagged}）不一致，请改正其中一处")
    return answer or flagged


def _parse_options(
    row: Sequence[str], indexes: Sequence[int | None], report: Report
) -> tuple[str, ...]:
    values = [row[i].strip() if i is not None and i < len(row) else "" for i in indexes]
    while values and not values[-1]:
        values.pop()
    for letter, value in zip(OPTION_LETTERS, values, strict=False):
        if not value:
            report(f"选项{letter}", "", f"选项{letter}为空但后面还有选项，请把选项从A起连续填写")
    return tuple(values)


def _parse_answer(
    qtype: QuestionType, text: str, options: tuple[str, ...], report: Report
) -> Answer:
    if qtype is QuestionType.SHORT_ANSWER:
        return text
    if not text:
        report("答案", text, "答案为空，请填写答案")
        return ""
    if qtype is QuestionType.FILL_BLANK:
        return tuple(_split(_ALTERNATIVE_SPLIT, blank) for blank in _BLANK_SPLIT.split(text))
    if qtype is QuestionType.TRUE_FALSE:
        value = parse_true_false(text)
        if value is None:
            report("答案", text, f"判断题答案“{text}”无法识别，请填写“正确”或“错误”")
        return bool(value)
    letters = parse_letters(text)
    if letters is None and text in options:
        letters = (OPTION_LETTERS[options.index(text)],)
    if not letters:
        report("答案", text, f"答案“{text}”无法识别，请填写选项字母，例如“A”或“ABD”")
        return ""
    if qtype is QuestionType.SINGLE and len(letters) > 1:
        report(
            "答案",
            text,
            f"单选题只能有一个答案，“{text}”有{len(letters)}个；多个答案请把题型改为多选题",
        )
    return letters[0] if qtype is QuestionType.SINGLE else letters


def _true_false_with_options(
    text: str, options: tuple[str, ...], report: Report
) -> tuple[bool, tuple[str, ...]]:
    """Some tools write 判断题 as two options (正确/错误) and a letter answer."""
    meanings = [parse_true_false(option) for option in options]
    letters = parse_letters(text)
    if None in meanings or len(set(meanings)) != len(meanings):
        report("选项A", options[0], "判断题不能有选项，请清空选项，答案填写“正确”或“错误”")
        return False, options
    if letters and len(letters) == 1 and OPTION_LETTERS.index(letters[0]) < len(options):
        return bool(meanings[OPTION_LETTERS.index(letters[0])]), ()
    return bool(_parse_answer(QuestionType.TRUE_FALSE, text, (), report)), ()


def _parse_points(text: str, report: Report) -> Decimal:
    if not text:
        return DEFAULT_POINTS
    try:
        return Decimal(_POINTS_SUFFIX.sub("", unicodedata.normalize("NFKC", text)).strip())
    except InvalidOperation:
        report("分值", text, f"分值“{text}”不是数字，请填写如“2”或“1.5”的数字")
        return DEFAULT_POINTS


def _parse_difficulty(text: str, report: Report) -> Difficulty:
    if not text:
        return Difficulty.MEDIUM
    difficulty = DIFFICULTY_ALIASES.get(unicodedata.normalize("NFKC", text).strip().lower())
    if difficulty is None:
        report("难度", text, f"难度“{text}”无法识别，请填写易、中、难（或1到5）")
        return Difficulty.MEDIUM
    return difficulty


def _parse_flag(text: str, report: Report) -> bool:
    value = parse_true_false(text) if text else False
    if value is None:
        report("区分大小写", text, f"“{text}”无法识别，请填写“是”或“否”")
    return bool(value)


def _split(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in pattern.split(text)) if text else ()


def question_row(question: Question) -> list[str]:
    """The cells of ``question`` under ``EXPORT_HEADERS``."""
    options = list(question.options) + [""] * (MAX_OPTIONS - len(question.options))
    return [
        QUESTION_TYPES[question.type].label,
        question.stem,
        *options,
        answer_text(question),
        question.explanation,
        format(question.points.normalize(), "f"),
        DIFFICULTY_LABELS[question.difficulty],
        "/".join(question.category),
        "、".join(question.tags),
        question.source,
        "、".join(question.keywords),
        "是" if question.case_sensitive else "",
    ]


def answer_text(question: Question) -> str:
    """The 答案 cell: "A", "ABD", 正确/错误, "一/1|表决权" or the reference answer."""
    answer = question.answer
    if question.type is QuestionType.TRUE_FALSE:
        return "正确" if answer else "错误"
    if question.type is QuestionType.FILL_BLANK:
        return "|".join("/".join(blank) for blank in answer)  # type: ignore[union-attr, arg-type]
    if question.type is QuestionType.MULTIPLE:
        return "".join(answer)  # type: ignore[arg-type]
    return str(answer)


def export_problem(question: Question) -> str | None:
    """Why ``question`` cannot be written as a row without changing it, or None."""
    if question.type is QuestionType.FILL_BLANK:
        alternatives = [alt for blank in question.answer for alt in blank]  # type: ignore[union-attr]
        if any(_BLANK_SPLIT.search(alt) or _ALTERNATIVE_SPLIT.search(alt) for alt in alternatives):
            return "填空题答案中含有分隔符（| ; / 或其全角形式），表格中无法区分"
    if any(_LIST_SPLIT.search(word) for word in (*question.tags, *question.keywords)):
        return "标签或关键词中含有分隔符（、 , ; |），表格中无法区分"
    if any(_CATEGORY_SPLIT.search(part) for part in question.category):
        return "分类名称中含有“/”或“>”，表格中会被当作下一级分类"
    return None
