"""What a session links to: its materials and quizzes (session_material, session_quiz),
the recording of a recorded 党课, and the plan item it carries out.

Pickers offer only what the organiser may use, through the study and quizzes domains'
own helpers (``visible_materials_clause``, ``query_managed_quizzes``), and further:

- a material must be owned by the session's unit or a unit above it, so that every
  expected attendee (always under the owner unit) may read it by study's own rule;
- a quiz must be published; an attendee sees a linked quiz only when its own audience
  holds them (a quiz outside their audience is not listed at all: its title stays
  unrevealed, as quizzes answer 404 outside their audience);
- a recording is a video, link or file material, as above;
- a plan item belongs to a plan of the owner unit (or, for the kinds groups hold, of a
  unit above it) for the session's year; ``plans.link_session`` checks the kind.

The form validates a choice against these lists; the writes here check again, so a
forged id of another unit's material is refused either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from studyhall.auth.scope import in_scope
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import in_subtree, utcnow
from studyhall.org.models import Person, Unit
from studyhall.sessions.models import (
    SessionKind,
    StudyPlan,
    StudyPlanItem,
    StudySession,
    session_material,
    session_quiz,
)
from studyhall.sessions.plans import GROUP_KINDS
from studyhall.study.models import Material, MaterialKind, MaterialVersion
from studyhall.study.permissions import can_view_material, visible_materials_clause

#: Material kinds a recorded 党课 can be: something watched.
RECORDING_KINDS = (MaterialKind.VIDEO, MaterialKind.LINK, MaterialKind.FILE)


class LinkError(ValueError):
    """A link the rules refuse; the message says why."""


# --- Choices --------------------------------------------------------------------------------

def _material_query(viewer: Person, owner_unit: Unit) -> sa.Select:
    """(id, title, kind) of the materials the viewer may use for a session of
    ``owner_unit``: visible to them (study's clause) and owned at or above the unit."""
    return (sa.select(Material.id, MaterialVersion.title, Material.kind)
            .join(Material.owner_unit)
            .join(MaterialVersion, MaterialVersion.id == Material.current_version_id)
            .where(visible_materials_clause(viewer), Material.is_archived.is_(False),
                   in_subtree(sa.literal(owner_unit.path), Unit.path))
            .order_by(Material.updated_at.desc(), Material.id.desc()))


def material_choices(viewer: Person, owner_unit: Unit | None) -> list[tuple[int, str]]:
    if owner_unit is None:
        return []
    return [(mid, title) for mid, title, _kind in db.session.execute(
        _material_query(viewer, owner_unit))]


def recording_choices(viewer: Person, owner_unit: Unit | None) -> list[tuple[int, str]]:
    if owner_unit is None:
        return []
    query = _material_query(viewer, owner_unit).where(Material.kind.in_(RECORDING_KINDS))
    return [(mid, f"{title} · {kind.label}") for mid, title, kind in db.session.execute(query)]


def quiz_choices(viewer: Person) -> list[tuple[int, str]]:
    """Published quizzes of units in the viewer's scope (quizzes' own query)."""
    from studyhall.quizzes.models import Quiz, QuizStatus
    from studyhall.quizzes.queries import query_managed_quizzes

    quizzes = db.session.scalars(query_managed_quizzes(viewer)
                                 .where(Quiz.status == QuizStatus.PUBLISHED)).all()
    return [(quiz.id, quiz.title) for quiz in quizzes]


def plan_item_choices(viewer: Person, owner_unit: Unit | None, year: int | None,
                      kind: SessionKind | None) -> list[tuple[int, str]]:
    """Items of the owner unit's plans for ``year`` (and of the plans of units above it,
    within the viewer's scope, for the kinds groups hold); the session's kind first.
    Before a date is given (``year`` None): this year's plans and later ones."""
    if owner_unit is None:
        return []
    if kind in GROUP_KINDS:
        of_unit = in_subtree(sa.literal(owner_unit.path), Unit.path)
    else:
        of_unit = Unit.id == owner_unit.id
    items = db.session.scalars(
        sa.select(StudyPlanItem).join(StudyPlan)
        .join(Unit, Unit.id == StudyPlan.unit_id)
        .where(of_unit, in_scope(viewer),
               StudyPlan.year == year if year else StudyPlan.year >= utcnow().year)
        .order_by(StudyPlanItem.month, StudyPlanItem.id)).all()
    items.sort(key=lambda item: item.kind is not kind)
    # gettext: WTForms prints a lazy string as safe HTML, the typed topic unescaped.
    return [(item.id, _("Month %(month)d · %(kind)s · %(topic)s", month=item.month,
                        kind=item.kind.label, topic=item.topic)) for item in items]


# --- Reads ----------------------------------------------------------------------------------

def get_material_ids(session: StudySession) -> list[int]:
    return list(db.session.scalars(sa.select(session_material.c.material_id).where(
        session_material.c.session_id == session.id).order_by(session_material.c.material_id)))


def get_quiz_ids(session: StudySession) -> list[int]:
    return list(db.session.scalars(sa.select(session_quiz.c.quiz_id).where(
        session_quiz.c.session_id == session.id).order_by(session_quiz.c.quiz_id)))


@dataclass
class LinkedMaterial:
    material: Material
    title: str


def get_materials(session: StudySession) -> list[LinkedMaterial]:
    rows = db.session.execute(
        sa.select(Material, MaterialVersion.title)
        .join(session_material, session_material.c.material_id == Material.id)
        .join(MaterialVersion, MaterialVersion.id == Material.current_version_id)
        .where(session_material.c.session_id == session.id)
        .order_by(MaterialVersion.title, Material.id)).all()
    return [LinkedMaterial(material, title) for material, title in rows]


def get_recording(session: StudySession) -> LinkedMaterial | None:
    if session.recording_material_id is None:
        return None
    material = db.session.get(Material, session.recording_material_id)
    version = material.current_version
    return LinkedMaterial(material, version.title if version else "")


def get_quizzes(session: StudySession, person: Person | None = None) -> list:
    """The linked quizzes; for an attendee (``person``) only those whose audience holds
    them and that are open or closed, not drafts."""
    from studyhall.quizzes.models import Quiz, QuizRecipient, QuizStatus

    query = (sa.select(Quiz).join(session_quiz, session_quiz.c.quiz_id == Quiz.id)
             .where(session_quiz.c.session_id == session.id).order_by(Quiz.title, Quiz.id))
    if person is not None:
        query = query.where(Quiz.status != QuizStatus.DRAFT, sa.exists().where(
            QuizRecipient.quiz_id == Quiz.id, QuizRecipient.person_id == person.id))
    return list(db.session.scalars(query))


def get_my_materials(session: StudySession, person: Person) -> list[LinkedMaterial]:
    """The linked materials an attendee may read (study's rule decides, per material)."""
    return [m for m in get_materials(session) if can_view_material(person, m.material)]


# --- Writes ---------------------------------------------------------------------------------

def _allowed(ids: set[int], choices: list[tuple[int, str]]) -> None:
    if not ids <= {value for value, _label in choices}:
        raise LinkError(_l("Choose among the materials and quizzes offered."))


def check_links(actor: Person, session: StudySession, values: dict) -> None:
    """Refuse a material, quiz or recording the actor may not link to this session."""
    owner = db.session.get(Unit, values.get("owner_unit_id", session.owner_unit_id))
    if "material_ids" in values:
        _allowed(set(values["material_ids"]) - set(get_material_ids(session)),
                 material_choices(actor, owner))
    if "quiz_ids" in values:
        _allowed(set(values["quiz_ids"]) - set(get_quiz_ids(session)), quiz_choices(actor))
    recording = values.get("recording_material_id")
    if recording and recording != session.recording_material_id:
        _allowed({recording}, recording_choices(actor, owner))


def set_links(session: StudySession, material_ids, quiz_ids) -> dict:
    """Replace the linked materials and quizzes; returns {"material_ids": [before,
    after], ...} for what changed."""
    changes = {}
    for key, table, column, wanted, current in (
            ("material_ids", session_material, session_material.c.material_id,
             material_ids, get_material_ids(session)),
            ("quiz_ids", session_quiz, session_quiz.c.quiz_id, quiz_ids,
             get_quiz_ids(session))):
        if wanted is None:
            continue
        wanted = sorted(set(wanted))
        if wanted == current:
            continue
        gone, new = set(current) - set(wanted), set(wanted) - set(current)
        if gone:
            db.session.execute(sa.delete(table).where(table.c.session_id == session.id,
                                                      column.in_(gone)))
        if new:
            db.session.execute(sa.insert(table), [
                {"session_id": session.id, column.name: value} for value in sorted(new)])
        changes[key] = [current, wanted]
    return changes
