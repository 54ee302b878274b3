"""The score sheet's baseline for bench_city.py: a bare XlsxWriter pass that writes the
same cells as the app's 成绩单 (the people's sheet of ``flask export-scores``), with the
same values, types and number formats, and nothing else.

Same cells: the unit's full path of names, the person's name and account, the GB/T 4762
label of their 政治面貌, the state and pass/fail words, the score as a number with two
decimals, the time taken as a duration, the submission time in the app's zone
(Asia/Shanghai, UTC+8 with no daylight saving since 1991) as a date; the header row and
frozen panes. What it leaves out is what the app adds on top: the formula guard on text
cells, which attempt counts (it joins the submitted attempt: the city has one per
person), 待阅卷 and 答题中, the title and notes, fitted widths, the two figure sheets.
bench_city.check_same_rows compares its body with the app's cell by cell.

It imports SQLAlchemy and XlsxWriter only, so that as a process of its own it starts as
a bare script does (the app's start-up is part of what is measured against it).
"""

import sys
from datetime import datetime, timedelta

import sqlalchemy as sa

BARE_SQL = (
    "SELECT r.unit_id, p.name, p.account, r.political_status, a.score, a.started_at, "
    "a.submitted_at FROM quiz_recipient r JOIN person p ON p.id = r.person_id "
    "JOIN unit u ON u.id = r.unit_id LEFT JOIN attempt a ON a.quiz_id = r.quiz_id "
    "AND a.person_id = r.person_id AND a.status = 'submitted' WHERE r.quiz_id = :q "
    "ORDER BY u.path, p.name, p.id")
HEADER = ["序号", "单位", "姓名", "账号", "政治面貌", "状态", "得分", "是否及格", "用时",
          "交卷时间"]
#: GB/T 4762's names by code (studyhall/org/models.py STATUS_LABELS, first of each).
STATUS = {"01": "中国共产党党员", "02": "中国共产党预备党员", "03": "中国共产主义青年团团员",
          "04": "中国国民党革命委员会会员", "05": "中国民主同盟盟员", "06": "中国民主建国会会员",
          "07": "中国民主促进会会员", "08": "中国农工民主党党员", "09": "中国致公党党员",
          "10": "九三学社社员", "11": "台湾民主自治同盟盟员", "12": "无党派人士", "13": "群众"}
SHANGHAI = timedelta(hours=8)


def _moment(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def bare_export(connection, quiz_id: int, out: str) -> None:
    """The people's rows of exam ``quiz_id`` by one plain query, written with XlsxWriter
    in constant-memory mode, cell by cell."""
    import xlsxwriter

    pass_mark = float(connection.execute(sa.text("SELECT pass_mark FROM quiz WHERE id = :q"),
                                         {"q": quiz_id}).scalar())
    units = connection.execute(sa.text("SELECT id, name, path FROM unit")).all()
    names = {unit_id: name for unit_id, name, _ in units}
    unit_names = {unit_id: "/".join(names[int(i)] for i in path.strip("/").split("/"))
                  for unit_id, _, path in units}
    rows = connection.execute(sa.text(BARE_SQL).execution_options(yield_per=2000),
                              {"q": quiz_id})
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    integer = book.add_format({"num_format": "0"})
    decimal = book.add_format({"num_format": "0.00"})
    duration = book.add_format({"num_format": "[h]:mm:ss"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet("成绩单")
    sheet.write_row(0, 0, HEADER, book.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    for n, (unit_id, name, account, status, score, started, submitted) in enumerate(rows, 1):
        sheet.write_number(n, 0, n, integer)
        sheet.write_string(n, 1, unit_names[unit_id])
        sheet.write_string(n, 2, name)
        sheet.write_string(n, 3, account)
        sheet.write_string(n, 4, STATUS[status])
        if score is None:
            sheet.write_string(n, 5, "未参加")
            continue
        score = float(score)
        sheet.write_string(n, 5, "已交卷")
        sheet.write_number(n, 6, score, decimal)
        sheet.write_string(n, 7, "是" if score >= pass_mark else "否")
        started, submitted = _moment(started), _moment(submitted)
        seconds = max(0, int((submitted - started).total_seconds()))
        sheet.write_number(n, 8, seconds / 86400, duration)
        sheet.write_datetime(n, 9, submitted + SHANGHAI, moment)
    book.close()


if __name__ == "__main__":
    engine = sa.create_engine(sys.argv[1])
    with engine.connect() as connection:
        bare_export(connection, int(sys.argv[2]), sys.argv[3])
