from __future__ import annotations

import io

import xlsxwriter

TEMPLATE_HEADERS = ["序号", "工号", "姓名", "手机号", "单位", "政治面貌", "备注"]
TEMPLATE_ROWS = [
    [1, "00000001", "张三", "13800138000",
     "示例市教育局党委/示例市实验小学党总支/实验小学第一支部", "中共党员", ""],
    [2, "00000002", "李四", "", "实验小学第二支部", "群众",
     "单位名在您的管理范围内唯一时可只写名称"],
]


def build_roster_template_xlsx() -> io.BytesIO:
    """A roster template: the header a roster import recognises and two example rows.
    工号 and 手机号 are text columns, so Excel keeps leading zeros."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("花名册")
    bold = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 14, text)
    sheet.set_column(2, 2, 10)
    sheet.set_column(3, 3, 14, text)
    sheet.set_column(4, 4, 40)
    sheet.set_column(5, 5, 14)
    sheet.set_column(6, 6, 40)
    sheet.write_row(0, 0, TEMPLATE_HEADERS, bold)
    for index, row in enumerate(TEMPLATE_ROWS, start=1):
        sheet.write_number(index, 0, row[0])
        for col, value in enumerate(row[1:], start=1):
            sheet.write_string(index, col, value)
    workbook.close()
    buffer.seek(0)
    return buffer
