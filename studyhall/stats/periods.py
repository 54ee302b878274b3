"""The period a study, session or report figure covers: any range of local dates
(北京时间, the deployment's zone), or a preset of the current year — 本年, 上半年, 下半年,
本季度. Compared with the UTC times the database stores through precomputed
boundaries (``sessions.plans.to_utc``), so every figure stays one portable GROUP BY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from studyhall.i18n import lazy_gettext as _l
from studyhall.sessions.plans import to_local, to_utc

#: The presets offered on the pages, in their order.
PRESETS = {
    "year": _l("This year"),
    "h1": _l("First half"),
    "h2": _l("Second half"),
    "quarter": _l("This quarter"),
}


@dataclass(frozen=True)
class DatePeriod:
    """Local dates ``start`` to ``end``, both included."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in the naive UTC the database stores."""
        return (to_utc(datetime.combine(self.start, datetime.min.time())),
                to_utc(datetime.combine(self.end + timedelta(days=1), datetime.min.time())))

    def contains(self, column) -> sa.ColumnElement:
        """SQL: a UTC time column falls within the period."""
        start, end = self.bounds()
        return sa.and_(column >= start, column < end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) in naive UTC meets the period."""
        low, high = self.bounds()
        return start < high and end > low

    @property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every local month the period touches, in order."""
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def month_index(self, column) -> sa.ColumnElement:
        """SQL: the position in :attr:`months` of the local month a UTC time column (within
        the period) falls in."""
        months = self.months
        edges = [to_utc(datetime(y + (m == 12), m % 12 + 1, 1)) for y, m in months[:-1]]
        if not edges:
            return sa.literal(0)
        return sa.case(*((column < edge, k) for k, edge in enumerate(edges)),
                       else_=len(months) - 1)

    @property
    def preset(self) -> str:
        """"year", "h1", "h2" or "quarter" when the dates are exactly one; else ""."""
        for key in PRESETS:
            if preset_period(key, self.start) == self:
                return key
        return ""

    @property
    def label(self) -> str:
        """The period as a work report names it: "2026年", "2026年上半年", "2026年第三季度",
        or "2026年3月1日至2026年5月31日"."""
        preset, year = self.preset, self.start.year
        if preset == "year":
            return _("%(year)d", year=year)
        if preset == "h1":
            return _("the first half of %(year)d", year=year)
        if preset == "h2":
            return _("the second half of %(year)d", year=year)
        if preset == "quarter":
            return _("quarter %(q)d of %(year)d", q=(self.start.month + 2) // 3, year=year)
        return _("%(start)s to %(end)s", start=day_label(self.start), end=day_label(self.end))

    def args(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def day_label(day: date) -> str:
    return _("%(month)d/%(day)d/%(year)d", year=day.year, month=day.month, day=day.day)


def preset_period(key: str, today: date) -> DatePeriod:
    """A preset of ``today``'s year: the year, a half, or the quarter ``today`` is in."""
    year = today.year
    if key == "h1":
        return DatePeriod(date(year, 1, 1), date(year, 6, 30))
    if key == "h2":
        return DatePeriod(date(year, 7, 1), date(year, 12, 31))
    if key == "quarter":
        first = 3 * ((today.month - 1) // 3) + 1
        last = date(year + (first == 10), (first + 3 - 1) % 12 + 1, 1) - timedelta(days=1)
        return DatePeriod(date(year, first, 1), last)
    return DatePeriod(date(year, 1, 1), date(year, 12, 31))


def local_today(now: datetime) -> date:
    return to_local(now).date()


class PeriodError(ValueError):
    """Dates that do not make a period; the message says why."""


#: The longest period a page or report covers.
MAX_DAYS = 366 * 5


def parse_period(preset: str | None, start: str | None, end: str | None,
                 today: date) -> DatePeriod:
    """The period a request or a command names: ``from``/``to`` dates (ISO), or a preset
    of the current year (本年 when nothing is given)."""
    if start or end:
        try:
            first = date.fromisoformat((start or "").strip())
            last = date.fromisoformat((end or "").strip())
        except ValueError:
            raise PeriodError(_("Give both dates as YYYY-MM-DD.")) from None
        if last < first:
            raise PeriodError(_("The end date comes before the start date."))
        if (last - first).days > MAX_DAYS:
            raise PeriodError(_("A period covers at most five years."))
        return DatePeriod(first, last)
    return preset_period(preset if preset in PRESETS else "year", today)
