"""What each audited action is called, which group it belongs to, and its details as
readable lines: names and local times instead of ids and ISO strings, never the raw
JSON. Text is escaped by the templates (and guarded in exports) like any user text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import format_datetime
from flask_babel import gettext as _

from studyhall.i18n import lazy_gettext as _l

#: The filter's groups, in the order of the menu: key → (label, actions).
GROUPS: dict[str, tuple] = {
    "scores": (_l("Score changes"), ("attempt.score", "attempt.regrade")),
    "extra": (_l("Extra attempts and time"),
              ("quiz.grant", "attempt.deadline", "quiz.attempt_deadlines", "quiz.closes_at",
               "assignment.due_at")),
    "roles": (_l("Role and unit changes"),
              ("person.role", "person.move", "person.activate", "person.deactivate",
               "unit.create")),
    "passwords": (_l("Password resets"), ("person.password_reset",)),
    "imports": (_l("Imports"), ("roster.import", "questions.import")),
    "exports": (_l("Exports of personal data"),
                ("export.scores", "export.roster", "export.attendance", "export.reading",
                 "export.restart", "export.session_record", "export.audit", "archive.export",
                 "archive.download")),
    "unlocks": (_l("Record unlocks and corrections"),
                ("session.record_reopen", "session.record_correct", "session.record_confirm")),
    "publishing": (_l("Publishing and session changes"),
                   ("quiz.publish", "assignment.publish", "assignment.close", "session.publish",
                    "session.update", "session.cancel", "session.attachment_add",
                    "session.attachment_remove", "session.settings")),
}

ACTIONS = {
    "attempt.score": _l("Score of an answer changed"),
    "attempt.regrade": _l("Attempt regraded"),
    "quiz.grant": _l("Extra attempt or time granted"),
    "attempt.deadline": _l("Attempt deadline moved"),
    "quiz.attempt_deadlines": _l("Deadlines of attempts in progress moved"),
    "quiz.closes_at": _l("Exam close time changed"),
    "assignment.due_at": _l("Assignment due time changed"),
    "person.role": _l("Role changed"),
    "person.move": _l("Moved to another unit"),
    "person.activate": _l("Account reactivated"),
    "person.deactivate": _l("Account deactivated"),
    "person.password_reset": _l("Password reset"),
    "unit.create": _l("Unit created"),
    "roster.import": _l("Roster imported"),
    "questions.import": _l("Questions imported"),
    "export.scores": _l("Score sheet exported"),
    "export.roster": _l("Roster exported"),
    "export.attendance": _l("Attendance sheet exported"),
    "export.reading": _l("Reading-completion sheet exported"),
    "export.restart": _l("Interrupted export started again"),
    "export.session_record": _l("Session record exported"),
    "export.audit": _l("Audit log exported"),
    "archive.export": _l("Inspection archive written (command line)"),
    "archive.download": _l("Inspection archive downloaded"),
    "session.record_reopen": _l("Session record unlocked"),
    "session.record_correct": _l("Session record corrected"),
    "session.record_confirm": _l("Session record confirmed"),
    "quiz.publish": _l("Exam published"),
    "assignment.publish": _l("Assignment published"),
    "assignment.close": _l("Assignment closed"),
    "session.publish": _l("Session published"),
    "session.update": _l("Published session changed"),
    "session.cancel": _l("Session cancelled"),
    "session.attachment_add": _l("Attachment added to a confirmed record"),
    "session.attachment_remove": _l("Attachment removed from a confirmed record"),
    "session.settings": _l("Working days to finish a record changed"),
}

TARGET_TYPES = {
    "person": _l("Person"), "quiz": _l("Exam"), "attempt": _l("Attempt"),
    "assignment": _l("Assignment"), "studysession": _l("Session"), "unit": _l("Unit"),
}

#: Labels of detail keys for the details no formatter below knows.
KEYS = {
    "before": _l("Before"), "after": _l("After"), "position": _l("Question number"),
    "total_before": _l("Total before"), "total_after": _l("Total after"),
    "question_id": _l("Question"), "expected": _l("Expected participants"),
    "attempts": _l("Attempts"), "minutes": _l("Extra minutes"), "version": _l("Version"),
    "reason": _l("Reason"), "file": _l("File"), "format": _l("Format"), "rows": _l("Rows"),
    "unit": _l("Unit"), "created": _l("Added"), "updated": _l("Updated"),
    "skipped": _l("Skipped"), "new": _l("New"), "unchanged": _l("Unchanged"),
    "error": _l("With errors"), "closes_at": _l("Close time"), "changes": _l("Changes"),
    "filters": _l("Filters"), "sheet": _l("Sheet"), "period": _l("Period"),
    "political": _l("Political status"), "kind": _l("Kind"),
    "topic": _l("Topic"), "starts_at": _l("Start"), "ends_at": _l("End"),
    "place": _l("Place"), "online_url": _l("Online link"), "host_id": _l("Host"),
    "speaker": _l("Speaker"), "recorder_id": _l("Recorder"),
    "leave_counts_as_expected": _l("Leave counts as expected"),
    "minutes_text": _l("Minutes"), "resolutions": _l("Resolutions"),
    "attendance": _l("Attendance"), "group": _l("Action"), "actor": _l("By"),
    "target": _l("Target"), "since": _l("From"), "until": _l("To"),
    "start": _l("From"), "end": _l("To"), "name": _l("Title or name"),
}
#: Detail keys left out of the page (internal ids, the rule text of the code).
HIDDEN = {"rule", "attachment_id", "file_id", "quiz_id"}
MAX_VALUE = 200


def group_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, (label, _actions) in GROUPS.items()]


def group_of(action: str) -> str | None:
    return next((key for key, (_label, actions) in GROUPS.items() if action in actions), None)


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def target_type_label(target_type: str) -> str:
    label = TARGET_TYPES.get(target_type)
    return str(label) if label is not None else target_type


class Names:
    """Names for the ids an entry's details hold: units, people, quizzes (filled in one
    query per kind for a page of entries, by queries.names_for)."""

    def __init__(self, units=None, people=None, quizzes=None):
        self.units, self.people, self.quizzes = units or {}, people or {}, quizzes or {}

    def unit(self, unit_id) -> str:
        return self.units.get(_int(unit_id), _("unit #%(id)s", id=unit_id))

    def person(self, person_id) -> str:
        return self.people.get(_int(person_id), _("person #%(id)s", id=person_id))

    def quiz(self, quiz_id) -> str:
        return self.quizzes.get(_int(quiz_id), _("exam #%(id)s", id=quiz_id))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def when(value) -> str:
    """An ISO timestamp (stored in UTC) as local time; other text as it is."""
    if isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm")
        except ValueError:
            return short(value)
    return short(value)


def score(value) -> str:
    if value is None or value == "None":
        return _("ungraded")
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return short(value)


def short(value) -> str:
    """Any value as one line of text, never longer than MAX_VALUE characters."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        text = "；".join(f"{_key(k)}：{short(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = "、".join(short(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())  # no line breaks or control spacing in one line
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def _key(key) -> str:
    label = KEYS.get(str(key))
    return str(label) if label is not None else str(key)


def _role(value) -> str:
    from studyhall.org.models import Role

    try:
        return Role(value).label
    except ValueError:
        return short(value)


def _change(label: str, before: str, after: str) -> str:
    return _("%(what)s: %(before)s → %(after)s", what=label, before=before, after=after)


# --- one formatter per action; each returns lines of text -------------------------------


def _person_role(d: dict, names: Names) -> list[str]:
    before, after = d.get("before") or {}, d.get("after") or {}
    lines = [_change(_("Role"), _role(before.get("role")), _role(after.get("role")))]
    if before.get("units") != after.get("units"):
        def units(ids):
            return "、".join(names.unit(i) for i in ids or []) or _("none")
        lines.append(_change(_("Units managed"), units(before.get("units")),
                             units(after.get("units"))))
    return lines


def _person_move(d: dict, names: Names) -> list[str]:
    return [_change(_("Unit"), names.unit(d.get("before")), names.unit(d.get("after")))]


def _times(label) -> Callable:
    def format_(d: dict, names: Names) -> list[str]:
        return [_change(str(label), when(d.get("before")), when(d.get("after")))]
    return format_


def _attempt_score(d: dict, names: Names) -> list[str]:
    return [_("Question %(n)s: %(before)s → %(after)s points", n=d.get("position", "?"),
              before=score(d.get("before")), after=score(d.get("after"))),
            _change(_("Total score"), score(d.get("total_before")), score(d.get("total_after")))]


def _attempt_regrade(d: dict, names: Names) -> list[str]:
    return [_("After question #%(id)s was corrected", id=d.get("question_id", "?")),
            _change(_("Total score"), score(d.get("total_before")), score(d.get("total_after")))]


def _quiz_grant(d: dict, names: Names) -> list[str]:
    lines = [_("Exam: %(title)s", title=names.quiz(d.get("quiz_id")))]
    if d.get("attempts"):
        lines.append(_("%(n)s more attempts", n=d["attempts"]))
    if d.get("minutes"):
        lines.append(_("%(n)s more minutes", n=d["minutes"]))
    return lines


def _attempt_deadlines(d: dict, names: Names) -> list[str]:
    return [_("%(n)s attempts in progress now end at %(time)s", n=d.get("attempts", 0),
              time=when(d.get("closes_at")))]


def _session_update(d: dict, names: Names) -> list[str]:
    lines = []
    for key, pair in (d.get("changes") or {}).items():
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        if key in ("host_id", "recorder_id"):
            before, after = (names.person(v) if v else "—" for v in (before, after))
        elif key in ("starts_at", "ends_at"):
            before, after = when(before), when(after)
        else:
            before, after = short(before), short(after)
        lines.append(_change(_key(key), before, after))
    return lines


def _record_correct(d: dict, names: Names) -> list[str]:
    lines = [_("Correction of version %(n)s", n=d.get("version", "?"))]
    changes = d.get("changes") or {}
    if changes.get("minutes"):
        lines.append(_("Minutes changed"))
    if changes.get("resolutions"):
        lines.append(_("Resolutions changed"))
    for person_id, pair in (changes.get("attendance") or {}).items():
        lines.append(_change(names.person(person_id), short(pair[0]), short(pair[1])))
    return lines


def _record_reopen(d: dict, names: Names) -> list[str]:
    return [_("Version %(n)s kept", n=d.get("version", "?")),
            _("Reason: %(reason)s", reason=short(d.get("reason")))]


def _export(d: dict, names: Names) -> list[str]:
    lines = []
    if d.get("format"):
        lines.append(_("Format: %(format)s", format=short(d["format"]).upper()))
    if "unit_id" in d:
        lines.append(_("Unit: %(unit)s", unit=names.unit(d["unit_id"]) if d["unit_id"]
                       else _("the whole scope")))
    filters = d.get("filters")
    if isinstance(filters, dict) and filters.get("group") in GROUPS:
        filters = {**filters, "group": str(GROUPS[filters["group"]][0])}
    return lines + [f"{_key(k)}：{short(filters if k == 'filters' else v)}"
                    for k, v in d.items() if k not in ("format", "unit_id") and k not in HIDDEN]


def _unit_create(d: dict, names: Names) -> list[str]:
    lines = [_("Name: %(name)s", name=short(d.get("name")))]
    if d.get("parent"):
        lines.append(_("Under: %(unit)s", unit=names.unit(d["parent"])))
    if d.get("via") == "roster_import":
        lines.append(_("By a roster import"))
    return lines


def _session_settings(d: dict, names: Names) -> list[str]:
    pair = d.get("record_working_days") or [None, None]
    return [_change(_("Working days to finish a record"),
                    short(pair[0]) if pair[0] is not None else _("default"),
                    short(pair[1]) if pair[1] is not None else _("default"))]


FORMATTERS: dict[str, Callable[[dict, Names], list[str]]] = {
    "unit.create": _unit_create,
    "session.settings": _session_settings,
    "person.role": _person_role,
    "person.move": _person_move,
    "quiz.closes_at": _times(_l("Close time")),
    "attempt.deadline": _times(_l("Deadline")),
    "assignment.due_at": _times(_l("Due time")),
    "attempt.score": _attempt_score,
    "attempt.regrade": _attempt_regrade,
    "quiz.grant": _quiz_grant,
    "quiz.attempt_deadlines": _attempt_deadlines,
    "session.update": _session_update,
    "session.record_correct": _record_correct,
    "session.record_reopen": _record_reopen,
}


def details_lines(action: str, details, names: Names) -> list[str]:
    """The entry's details as readable lines (an unknown shape falls back to
    "label: value" lines, each value flattened and shortened)."""
    details = details if isinstance(details, dict) else {"details": details}
    formatter = FORMATTERS.get(action) or (_export if action.startswith("export.") else None)
    if formatter is not None:
        try:
            return formatter(details, names)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            pass  # an older shape of the same action: shown generically below
    return [f"{_key(k)}：{short(v)}" for k, v in details.items() if k not in HIDDEN]
