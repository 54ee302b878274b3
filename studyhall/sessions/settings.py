"""A unit's own rules for its sessions (issue 9, item 2): how many working days after a
meeting its record is due. A unit inherits from the nearest ancestor that sets it; with
none, the deployment's SESSION_RECORD_WORKING_DAYS (default 3) applies. Whoever manages a
unit (its scope holds it) sets or clears its own value; each change is audited."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from studyhall import audit
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Unit
from studyhall.sessions.models import SessionUnitSettings

#: The default when neither the unit, an ancestor nor the deployment says otherwise
#: (ANCHORS.md: "the record filed within 3 working days").
RECORD_WORKING_DAYS = 3
MIN_DAYS, MAX_DAYS = 1, 30


def default_record_days() -> int:
    return int(current_app.config.get("SESSION_RECORD_WORKING_DAYS", RECORD_WORKING_DAYS))


@dataclass(frozen=True)
class RecordDays:
    days: int
    #: The unit whose setting applies (itself or an ancestor); None: the deployment's.
    source: Unit | None


def _settings_above(paths: list[str]) -> list[tuple[str, int, Unit]]:
    """(path, days, unit) of every unit with a setting whose subtree holds one of
    ``paths``, deepest first: one query."""
    if not paths:
        return []
    holds = sa.or_(*(in_subtree(sa.literal(path), Unit.path) for path in set(paths)))
    rows = db.session.execute(
        sa.select(Unit, SessionUnitSettings.record_working_days)
        .join(SessionUnitSettings, SessionUnitSettings.unit_id == Unit.id)
        .where(SessionUnitSettings.record_working_days.is_not(None), holds)).all()
    return sorted(((unit.path, days, unit) for unit, days in rows),
                  key=lambda row: len(row[0]), reverse=True)


def _resolve(path: str, settings: list[tuple[str, int, Unit]]) -> RecordDays:
    for prefix, days, unit in settings:
        if path_in_subtree(path, prefix):
            return RecordDays(days, unit)
    return RecordDays(default_record_days(), None)


def get_record_days(unit: Unit) -> RecordDays:
    """The working days a unit's records are due in, and where that comes from."""
    return _resolve(unit.path, _settings_above([unit.path]))


def get_record_days_for(units: list[Unit]) -> dict[int, int]:
    """{unit id: working days} for several units, in one query (the reminders)."""
    settings = _settings_above([unit.path for unit in units])
    return {unit.id: _resolve(unit.path, settings).days for unit in units}


def get_own_record_days(unit: Unit) -> int | None:
    row = db.session.get(SessionUnitSettings, unit.id)
    return row.record_working_days if row else None


class SettingsError(ValueError):
    """A value the settings refuse; the message says why."""


def set_record_days(actor: Person, unit: Unit, days: int | None) -> None:
    """Set the unit's own value (None: inherit again). The caller checked the actor
    manages the unit."""
    if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
        raise SettingsError(_l("Between %(min)d and %(max)d working days.",
                               min=MIN_DAYS, max=MAX_DAYS))
    row = db.session.get(SessionUnitSettings, unit.id)
    before = row.record_working_days if row else None
    if before == days:
        return
    if row is None:
        row = SessionUnitSettings(unit_id=unit.id)
        db.session.add(row)
    row.record_working_days, row.updated_by_id = days, actor.id
    db.session.flush()
    audit.record(actor, "session.settings", unit, record_working_days=[before, days])
