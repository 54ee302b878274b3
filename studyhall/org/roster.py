"""Roster import: read a spreadsheet of staff, plan every row's fate, then apply the plan
in one transaction (ARCHITECTURE.md, invariant 7).

``plan_import`` only reads the database; ``apply_plan`` writes and flushes. A plan with
any error is never applied, so a bad file changes nothing, and importing the same file
again plans every row as unchanged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from question_bank.formats.limits import DEFAULT_LIMITS, ReadLimits
from question_bank.normalize import clean_header
from studyhall import audit
from studyhall.auth.passwords import quick_problem
from studyhall.auth.scope import scope_paths
from studyhall.exports.safety import unguard
from studyhall.extensions import db
from studyhall.model_helpers import path_in_subtree
from studyhall.org import operations
from studyhall.org.models import PHONE_PATTERN, Person, PoliticalStatus, Unit, UnitKind
from studyhall.org.permissions import can_manage_person
from studyhall.spreadsheets import (
    Header,
    SpreadsheetError,
    find_header,
    missing_header_report,
    read_rows,
)

#: Header names per field, in order of preference: a file with both 工号 and 用户名 is
#: keyed by 工号. Several unit columns are combined into one path (``unit_columns``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("工号", "职工号", "教工号", "员工编号", "人员编号", "账号", "帐号", "登录账号",
                "用户名", "登录名", "account"),
    "name": ("姓名", "真实姓名", "员工姓名", "职工姓名", "名字", "name"),
    "phone": ("手机", "手机号", "手机号码", "移动电话", "联系电话", "电话", "phone", "mobile"),
    "unit": ("单位", "部门", "所属单位", "所属部门", "所在单位", "所在部门", "所属支部", "所在支部",
             "支部", "组织", "所属组织", "所属党组织", "所在党组织",
             *(f"{level}级{kind}" for level in "一二三四五六七八" for kind in ("部门", "单位")),
             "unit", "department"),
    "status": ("政治面貌", "political status"),
    "password": ("初始密码", "密码", "password"),
}
#: The names as people write them, for messages (一级部门…八级部门 summed up).
ACCEPTED = {key: tuple(n for n in names if "级" not in n[1:2]) + (
    ("一级部门、二级部门…",) if key == "unit" else ()) for key, names in COLUMNS.items()}
COLUMNS = {key: tuple(clean_header(n) for n in names) for key, names in COLUMNS.items()}
REQUIRED = ("account", "name", "unit", "status")
#: Columns read and deliberately not kept: StudyHall stores no e-mail addresses.
NOT_KEPT = tuple(clean_header(n) for n in ("邮箱", "电子邮箱", "电子邮件", "邮件", "email",
                                           "e-mail", "邮箱地址"))
PHONE_RE = re.compile(PHONE_PATTERN)
ACCOUNT_RE = re.compile(r"^[^\s/\\]{1,64}$")
#: A path's separators; "-" is one only when the whole text is not itself a unit's name.
PATH_SPLIT = re.compile(r"\s*[/／>＞]\s*")
HYPHEN_SPLIT = re.compile(r"\s*[-－]\s*")
#: Two units in one cell ("甲支部|乙支部"): a person belongs to exactly one.
SEVERAL_SPLIT = re.compile(r"\s*[|｜;；]\s*")
_LEVEL = re.compile(r"^([一二三四五六七八])级")


def column_label(field_name: str) -> str:
    return {"account": _("Account"), "name": _("Name"), "phone": _("Mobile"),
            "unit": _("Unit"), "status": _("Political status"),
            "password": _("Initial password")}[field_name]


@dataclass
class RowIssue:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class RowFate:
    row: int
    account: str
    name: str
    unit: str = ""
    fate: str = "new"  # new / updated / unchanged / error
    changes: list[str] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    # What apply_plan needs, not shown.
    values: dict = field(default_factory=dict, repr=False)
    person: Person | None = field(default=None, repr=False)


@dataclass
class RosterPlan:
    rows: list[RowFate] = field(default_factory=list)
    file_error: str | None = None
    new_units: list[tuple[str, ...]] = field(default_factory=list)
    #: Header cells of columns that are not read (序号, 性别, 邮箱…).
    ignored_columns: list[str] = field(default_factory=list)
    #: Those among them StudyHall has nowhere to keep (e-mail).
    not_kept: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(row.fate for row in self.rows)

    @property
    def issues(self) -> list[RowIssue]:
        return [issue for row in self.rows for issue in row.issues]

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.issues and bool(self.rows)


class UnitResolver:
    """Finds a unit from a full path ("示例市教育局/实验小学/第一支部", also written with
    ">" or "-"), the end of a path, a bare name unique within the importer's scope, or
    several columns naming the levels; plans missing units on request.

    A unit's name may itself contain "-" ("初一-1班"): the text is first read with "/"
    and ">" as the only separators, then with "-" too; whichever names a unit wins, and
    if both do (two different units) the row is asked to write the path with "/".

    With ``create_units``, a missing end of a path is planned under the part of it that
    exists, and a missing single name under ``parent`` (the importer's chosen unit,
    full names, within their scope)."""

    def __init__(self, viewer: Person, create_units: bool,
                 parent_id: int | None = None):
        units = db.session.execute(sa.select(Unit.id, Unit.parent_id, Unit.name, Unit.path)).all()
        by_id = {u.id: u for u in units}
        self.prefixes = scope_paths(viewer)
        self.create_units = create_units
        self.by_names: dict[tuple[str, ...], int] = {}
        self.path_of: dict[tuple[str, ...], str] = {}
        names_of_id: dict[int, tuple[str, ...]] = {}
        for u in units:
            names = tuple(by_id[int(i)].name for i in u.path.strip("/").split("/"))
            self.by_names[names] = u.id
            self.path_of[names] = u.path
            names_of_id[u.id] = names
        self.parent: tuple[str, ...] | None = None
        if parent_id in names_of_id and self._in_scope(names_of_id[parent_id]):
            self.parent = names_of_id[parent_id]
        self.planned: dict[tuple[str, ...], None] = {}
        self.by_last: dict[str, list[tuple[str, ...]]] = {}
        for names in self.by_names:
            if self._in_scope(names):
                self.by_last.setdefault(names[-1], []).append(names)
        self._cache: dict[tuple[str, ...], tuple[tuple[str, ...] | None, str | None]] = {}

    def _in_scope(self, names: tuple[str, ...]) -> bool:
        path = self.path_of.get(names)
        if path is None:
            return False
        return self.prefixes is None or path_in_subtree(path, self.prefixes)

    def _matches(self, segments: tuple[str, ...]) -> list[tuple[str, ...]]:
        n = len(segments)
        found = [names for names in self.by_last.get(segments[-1], ()) if names[-n:] == segments]
        found += [names for names in self.planned if names[-n:] == segments]
        return found

    def _along(self, segments: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Units named by the last segment whose ancestors include the other segments in
        order, levels in between allowed (单位 "教育局党委", 部门 "甲校第一支部")."""
        def contains(names: tuple[str, ...]) -> bool:
            ancestors = iter(names[:-1])
            return all(any(a == s for a in ancestors) for s in segments[:-1])
        return [names for names in self._matches(segments[-1:]) if contains(names)]

    def resolve(self, text: str) -> tuple[tuple[str, ...] | None, str | None]:
        """The full names of the unit, or None and the reason it cannot be found."""
        return self.resolve_columns([text])

    def resolve_columns(self, texts: list[str]) -> tuple[tuple[str, ...] | None, str | None]:
        """The unit named by one or several unit cells, least specific first."""
        key = tuple(filter(None, map(str.strip, texts)))
        if key not in self._cache:
            self._cache[key] = self._resolve(key)
        return self._cache[key]

    def _resolve(self, texts: tuple[str, ...]) -> tuple[tuple[str, ...] | None, str | None]:
        if not texts:
            return None, _("The unit is empty.")
        for text in texts:
            units = [part for part in SEVERAL_SPLIT.split(text) if part]
            if len(units) > 1:
                return None, _("A person belongs to exactly one unit; this cell names %(n)d "
                               "(%(units)s). Keep the one they belong to.",
                               n=len(units), units="、".join(units))
        if len(texts) == 1:
            return self._resolve_text(texts[0])
        return self._resolve_levels(texts)

    def _resolve_text(self, text: str) -> tuple[tuple[str, ...] | None, str | None]:
        segments = _split(text, PATH_SPLIT)
        if not segments:
            return None, _("The unit is empty.")
        readings = [segments]
        hyphenated = tuple(s for part in segments for s in _split(part, HYPHEN_SPLIT))
        if len(hyphenated) > len(segments):
            readings.append(hyphenated)
        found = [(reading, self._matches(reading)) for reading in readings]
        found = [(reading, matches) for reading, matches in found if matches]
        if len(found) > 1 and found[0][1] != found[1][1]:
            return None, _("This names two different units, “%(a)s” and “%(b)s”; write "
                           "the path with \"/\" between the levels.",
                           a="/".join(found[0][1][0]), b="/".join(found[1][1][0]))
        if found:
            matches = found[0][1]
            if len(matches) == 1:
                return matches[0], None
            return None, _("Several units in your scope match; write the full path, such as "
                           "\"School/Branch\".")
        if self.create_units:
            # "-" separates levels only if the part before it is a unit already.
            if len(readings) > 1 and self._matches(readings[1][:1]):
                return self._plan_path(readings[1])
            return self._plan_path(segments)
        return None, self._not_found()

    def _resolve_levels(self, texts: tuple[str, ...]) -> tuple[tuple[str, ...] | None,
                                                               str | None]:
        """Several unit columns: their paths joined, a level repeated in the next column
        counted once; a unit of the tree must lie along them."""
        segments: tuple[str, ...] = ()
        for text in texts:
            part = _split(text, PATH_SPLIT)
            overlap = max((k for k in range(1, min(len(segments), len(part)) + 1)
                           if segments[-k:] == part[:k]), default=0)
            segments += part[overlap:]
        if not segments:
            return None, _("The unit is empty.")
        matches = self._matches(segments) or self._along(segments)
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            return None, _("Several units in your scope match; write the full path, such as "
                           "\"School/Branch\".")
        elsewhere = self._matches(segments[-1:])
        if elsewhere:
            return None, _("The unit columns disagree with the organisation: “%(unit)s” is "
                           "under “%(path)s”, not under “%(given)s”.", unit=segments[-1],
                           path="/".join(elsewhere[0][:-1]) or "-",
                           given="/".join(segments[:-1]))
        if self.create_units:
            return self._plan_path(segments)
        return None, self._not_found()

    def _not_found(self) -> str:
        if self.create_units:
            return _("No such unit in your scope, and no parent was chosen for new units.")
        return _("No such unit in your scope. Check the name, or ask an administrator "
                 "to create it.")

    def _plan_path(self, segments: tuple[str, ...]) -> tuple[tuple[str, ...] | None, str | None]:
        """Create the missing end of a path under the longest part of it that exists; a
        single missing name under the chosen parent."""
        for cut in range(len(segments) - 1, 0, -1):
            head = self._matches(segments[:cut])
            if len(head) == 1:
                full = head[0] + segments[cut:]
                break
        else:
            if len(segments) == 1:
                if self.parent is None:
                    return None, self._not_found()
                full = self.parent + segments
            elif self.prefixes is not None:
                return None, _("The start of this path is not a unit in your scope.")
            else:
                full = segments
        for i in range(1, len(full) + 1):
            if full[:i] not in self.by_names:
                self.planned.setdefault(full[:i])
        return full, None


def _split(text: str, separators: re.Pattern) -> tuple[str, ...]:
    return tuple(s for s in separators.split(text.strip()) if s)


def guess_kind(name: str, is_leaf: bool) -> UnitKind:
    """The kind of a unit created by an import, from its name."""
    for marker, kind in (("党小组", UnitKind.GROUP), ("总支", UnitKind.GENERAL_BRANCH),
                         ("支部", UnitKind.BRANCH), ("党委", UnitKind.COMMITTEE),
                         ("党工委", UnitKind.COMMITTEE), ("小组", UnitKind.GROUP)):
        if marker in name:
            return kind
    return UnitKind.BRANCH if is_leaf else UnitKind.SCHOOL


def unit_columns(header: Header) -> list[int]:
    """The unit columns, least specific first: by their level (一级部门, 二级部门…) when
    every one has a level, else left to right."""
    columns = sorted(header.columns["unit"])
    levels = [_LEVEL.match(clean_header(header.cells[col])) for col in columns]
    if len(columns) > 1 and all(levels):
        order = "一二三四五六七八"
        columns = [col for _, col in sorted(
            (order.index(level[1]), col) for level, col in zip(levels, columns, strict=True))]
    return columns


def _cell(text: str) -> str:
    return unguard(text.replace("\x00", "").strip())


def _row_values(row: list[str], fields: list[tuple[str, int]], units: list[int]) -> dict:
    """The cells of one row by field (the first column of each), and every unit cell."""
    # A CSV roster exported here guards "=…" with an apostrophe (exports/safety.py): it is
    # not part of the value, so the file imports back unchanged.
    # A NUL is dropped, as the forms drop it: PostgreSQL cannot hold one in text, so a
    # cell holding one would fail the account lookup or the save instead of reading clean.
    width = len(row)
    values: dict = {key: _cell(row[col]) if col < width else "" for key, col in fields}
    cells = [_cell(row[col]) if col < width else "" for col in units]
    values["unit_cells"] = cells
    values["unit"] = cells[0] if len(cells) == 1 else " + ".join(c for c in cells if c)
    return values


def _check_row(number: int, values: dict[str, str], resolver: UnitResolver) -> RowFate:
    fate = RowFate(row=number, account=values["account"], name=values["name"],
                   unit=values["unit"])

    def problem(column: str, reason: str) -> None:
        fate.issues.append(RowIssue(number, column_label(column), values.get(column, ""), reason))

    if not values["account"]:
        problem("account", _("The account is empty."))
    elif not ACCOUNT_RE.match(values["account"]):
        problem("account", _("An account has at most 64 characters and no spaces or slashes."))
    if not values["name"]:
        problem("name", _("The name is empty."))
    elif len(values["name"]) > 50:
        problem("name", _("A name has at most 50 characters."))
    phone = values.get("phone", "")
    if phone and not PHONE_RE.match(phone):
        problem("phone", _("Not a phone number; write 11 digits, such as 13800138000."))
    status = PoliticalStatus.parse(values["status"])
    if status is None:
        reason = (_("The political status is empty.") if not values["status"] else
                  _("Unknown political status; write e.g. 中共党员, 共青团员, 民盟盟员 or 群众."))
        problem("status", reason)
    password = values.get("password", "")
    weak = password and quick_problem(password, account=values["account"], phone=phone)
    if weak:
        problem("password", weak)
    unit_names, reason = resolver.resolve_columns(values["unit_cells"])
    if reason:
        problem("unit", reason)
    if unit_names is not None and unit_names in resolver.planned:
        fate.changes.append(_("new unit %(path)s", path="/".join(unit_names)))
    fate.values = {"status": status, "unit_names": unit_names, "phone": phone or None,
                   "password": password or None}
    return fate


def _compare(fate: RowFate, person: Person, unit_names_of: dict[int, tuple[str, ...]]) -> None:
    values = fate.values
    changes = []
    if person.name != fate.name:
        changes.append(_("name: %(a)s → %(b)s", a=person.name, b=fate.name))
    if values["phone"] and person.phone != values["phone"]:
        changes.append(_("mobile: %(a)s → %(b)s", a=person.phone or "-", b=values["phone"]))
    if values["status"] is not person.political_status:
        changes.append(_("political status: %(a)s → %(b)s", a=person.political_status.label,
                         b=values["status"].label))
    if unit_names_of.get(person.unit_id) != values["unit_names"]:
        changes.append(_("unit → %(b)s", b="/".join(values["unit_names"])))
    if not person.is_active:
        changes.append(_("reactivated"))
    fate.fate = "updated" if changes else "unchanged"
    fate.changes = [*changes, *fate.changes]


def plan_import(viewer: Person, data: bytes, filename: str, *, create_units: bool = False,
                parent_id: int | None = None, limits: ReadLimits = DEFAULT_LIMITS
                ) -> RosterPlan:
    """Read the file and decide every row's fate without writing anything. The web passes
    ``web_limits()``; a file over its rows gets a message pointing to the CLI."""
    try:
        rows = read_rows(data, filename, limits)
    except SpreadsheetError as exc:
        message = str(exc)
        if exc.reason == "rows":
            message += " " + _("Larger files can be imported on the server by an "
                               "administrator: flask --app studyhall import-roster FILE")
        return RosterPlan(file_error=message)
    return plan_rows(viewer, rows, create_units=create_units, parent_id=parent_id)


def no_header_message(rows: list[list[str]]) -> str:
    """Why no header was found: the cells read in the first rows, the required columns
    missing from the closest row and the names each goes by."""
    shown, missing = missing_header_report(rows, COLUMNS, REQUIRED)
    lines = [_("No header row found: the first rows must name the columns 姓名, 工号, 单位 and "
               "政治面貌 (any of the names below).")]
    if shown:
        lines.append(_("Read in the first rows:"))
        lines += [_("row %(row)d: %(cells)s", row=number,
                    cells=" | ".join(cell[:40] for cell in cells[:12]))
                  for number, cells in shown]
    else:
        lines.append(_("The first rows are empty."))
    lines.append(_("Missing columns:"))
    lines += [_("%(column)s: write one of %(names)s", column=column_label(field_name),
                names="、".join(ACCEPTED[field_name])) for field_name in missing]
    return "\n".join(lines)


def web_limits() -> ReadLimits:
    """What a roster uploaded through the page may hold (config ``MAX_ROSTER_ROWS``)."""
    return ReadLimits(max_rows=current_app.config["MAX_ROSTER_ROWS"])


def plan_rows(viewer: Person, rows: list[list[str]], *, create_units: bool = False,
              parent_id: int | None = None, on_row: Callable[[], None] | None = None
              ) -> RosterPlan:
    """Decide the fate of every row of a table already read. ``on_row`` is called once per
    row (the CLI's progress bar). With ``create_units``, missing units are planned (a
    single name under the unit ``parent_id``, which must be in the viewer's scope)."""
    plan = RosterPlan()
    header = find_header(rows, COLUMNS, REQUIRED)
    if header is None:
        plan.file_error = no_header_message(rows)
        return plan
    header_index = header.index
    plan.ignored_columns = header.ignored
    plan.not_kept = [name for name in header.ignored if clean_header(name) in NOT_KEPT]
    units = unit_columns(header)
    fields = [(key, cols[0]) for key, cols in header.columns.items() if key != "unit"]
    resolver = UnitResolver(viewer, create_units, parent_id)
    if parent_id is not None and resolver.parent is None:
        plan.file_error = _("The unit chosen for new units is not in your scope.")
        return plan
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        if on_row is not None:
            on_row()
        values = _row_values(rows[index], fields, units)
        if not any(values[key] for key, _col in fields) and not values["unit"]:
            continue  # blank or trailing empty rows
        fate = _check_row(index + 1, values, resolver)
        first = seen.setdefault(fate.account, fate.row) if fate.account else fate.row
        if first != fate.row:
            fate.issues.append(RowIssue(fate.row, column_label("account"), fate.account,
                                        _("This account already appears in row %(row)d.",
                                          row=first)))
        plan.rows.append(fate)
    if not plan.rows:
        plan.file_error = _("The file has a header but no people under it.")
        return plan
    _match_existing(viewer, plan, resolver)
    plan.new_units = sorted(resolver.planned, key=len)
    for fate in plan.rows:
        if fate.issues:
            fate.fate = "error"
    return plan


def _match_existing(viewer: Person, plan: RosterPlan, resolver: UnitResolver) -> None:
    accounts = [row.account for row in plan.rows if row.account]
    existing: dict[str, Person] = {}
    for start in range(0, len(accounts), 500):
        chunk = accounts[start:start + 500]
        existing.update((p.account, p) for p in db.session.scalars(
            sa.select(Person).where(Person.account.in_(chunk))))
    names_of = {unit_id: names for names, unit_id in resolver.by_names.items()}
    prefixes = scope_paths(viewer)
    for fate in plan.rows:
        person = existing.get(fate.account)
        if person is None or fate.issues:
            continue
        path = resolver.path_of.get(names_of.get(person.unit_id, ()), "")
        in_scope = prefixes is None or path_in_subtree(path, prefixes)
        if not in_scope:
            fate.issues.append(RowIssue(fate.row, column_label("account"), fate.account,
                                        _("This account belongs to someone outside your scope; "
                                          "ask an administrator.")))
            continue
        fate.person = person
        _compare(fate, person, names_of)
        # A row that changes nothing may name anyone in scope (the importer's own row, a
        # peer's): the round trip of an exported roster stays unchanged. Changing someone
        # whose rights are not narrower than the importer's is refused, as on their page.
        if fate.fate == "updated" and not can_manage_person(viewer, person):
            fate.person, fate.changes = None, []
            fate.issues.append(RowIssue(fate.row, column_label("account"), fate.account,
                                        _("Only someone with wider rights can change this "
                                          "person; ask an administrator.")))


def apply_plan(viewer: Person, plan: RosterPlan) -> list[tuple[str, str, str]]:
    """Write a plan with no errors. Returns (account, name, initial password) for each new
    account whose password was generated, to be shown once."""
    if not plan.ok:
        raise ValueError("a roster plan with errors cannot be applied")
    units: dict[tuple[str, ...], Unit] = {}
    unit_ids = {names: unit_id for names, unit_id in
                UnitResolver(viewer, False).by_names.items()}
    for names in plan.new_units:
        parent = units.get(names[:-1]) or (db.session.get(Unit, unit_ids[names[:-1]])
                                           if len(names) > 1 else None)
        is_leaf = not any(len(n) > len(names) and n[:len(names)] == names for n in plan.new_units)
        unit = operations.create_unit(parent, names[-1], guess_kind(names[-1], is_leaf))
        units[names] = unit
        # Audited as a move is: who created which unit where, by this import.
        audit.record(viewer, "unit.create", unit, name=unit.name,
                     parent=parent.id if parent else None, via="roster_import")

    def unit_for(names):
        if names not in units:
            units[names] = db.session.get(Unit, unit_ids[names])
        return units[names]

    def unit_id_for(names):
        return units[names].id if names in units else unit_ids[names]

    # New people in one bulk INSERT (10,000 ORM objects took seconds to flush); the few
    # updates stay ORM changes.
    new_rows = [fate for fate in plan.rows if fate.fate == "new"]
    initials = operations.create_people([
        operations.NewPerson(account=fate.account, name=fate.name,
                             unit_id=unit_id_for(fate.values["unit_names"]),
                             political_status=fate.values["status"],
                             phone=fate.values["phone"], password=fate.values["password"])
        for fate in new_rows])
    passwords = [(fate.account, fate.name, initial)
                 for fate, initial in zip(new_rows, initials, strict=True) if initial]
    for fate in plan.rows:
        if fate.fate == "updated":
            values, person = fate.values, fate.person
            person.name, person.political_status = fate.name, values["status"]
            person.phone = values["phone"] or person.phone
            # Moves and reactivations are audited, as on the people pages.
            operations.move_person(viewer, person, unit_for(values["unit_names"]))
            operations.set_person_active(viewer, person, True)
    db.session.flush()
    return passwords
