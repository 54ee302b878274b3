"""The people roster (花名册) with phone numbers, as .xlsx or CSV, in exactly the shape the
roster import reads: 序号, 工号, 姓名, 手机号, 单位 (the full path), 政治面貌 (its full
name), 备注. Importing the file back changes nothing (a test imports it and finds every
row unchanged). Active people only: an inactive one would come back reactivated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlalchemy as sa
import xlsxwriter

from studyhall.auth.scope import in_scope
from studyhall.exports.roster import TEMPLATE_HEADERS
from studyhall.exports.sheets import INT, TEXT, Column, SheetWriter, iter_csv, workbook_options
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, Unit

#: 工号 and 手机号 are text (leading zeros, 0571-…); 序号 a number.
KINDS = {"序号": INT}


def roster_columns() -> list[Column]:
    return [Column(header, KINDS.get(header, TEXT)) for header in TEMPLATE_HEADERS]


def query_roster(viewer, unit: Unit | None = None) -> sa.Select:
    """Active people in the viewer's scope (and the unit's subtree), by unit then name."""
    query = (sa.select(Person.account, Person.name, Person.phone, Person.unit_id,
                       Person.political_status)
             .join(Unit, Unit.id == Person.unit_id)
             .where(in_scope(viewer), Person.is_active))
    if unit is not None:
        query = query.where(in_subtree(Unit.path, [unit.path]))
    return query.order_by(Unit.path, Person.name, Person.id)


def count_roster(viewer, unit: Unit | None = None) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        query_roster(viewer, unit).order_by(None).subquery())) or 0


def iter_roster_values(viewer, unit: Unit | None = None) -> Iterator[list]:
    from studyhall.stats.queries import get_unit_names

    names = get_unit_names()
    result = db.session.connection().execute(
        query_roster(viewer, unit).execution_options(yield_per=2000))
    for number, row in enumerate(result, start=1):
        yield [number, row.account, row.name, row.phone or "", names.get(row.unit_id, ""),
               row.political_status.label, ""]


def write_roster_workbook(target, viewer, unit: Unit | None = None,
                          progress: Callable[[int], None] | None = None) -> None:
    workbook = xlsxwriter.Workbook(target, workbook_options())
    try:
        SheetWriter(workbook, "花名册", roster_columns()).write(
            iter_roster_values(viewer, unit), progress)
    finally:
        workbook.close()


def iter_roster_csv(viewer, unit: Unit | None = None) -> Iterator[bytes]:
    return iter_csv(roster_columns(), iter_roster_values(viewer, unit))
