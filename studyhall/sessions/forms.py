"""One form per screen of sessions. A meeting is entered as a day with a start and an end
time (two taps on a phone, not two date-and-time pickers), in the configured time zone,
and stored as naive UTC."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l
from studyhall.sessions.models import SessionKind, StudySession

#: A person picker's typed value: an account, or a name unique under the unit.
PERSON_HINT = _l("Type a name or an account (工号); the list suggests people of the unit.")


class SessionForm(Form):
    kind = SelectField(_l("Kind"), choices=[])
    owner_unit_id = SelectField(_l("Unit"), coerce=int, choices=[],
                                description=_l("Its managers organise the session; by default "
                                               "its members are expected."))
    topic = StringField(_l("Topic"), validators=[DataRequired(_l("Give the topic.")),
                                                 Length(max=200)])
    day = DateField(_l("Date"), validators=[DataRequired(_l("Give the date."))])
    start_time = TimeField(_l("Starts at"), validators=[DataRequired(_l("Give the time."))])
    end_time = TimeField(_l("Ends at"), validators=[DataRequired(_l("Give the time."))])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    online_url = StringField(_l("Online meeting link"), validators=[Optional(),
                                                                    Length(max=1000)],
                             description=_l("Only for a session held online."))
    host = StringField(_l("Host"), validators=[Length(max=64)], description=PERSON_HINT,
                       render_kw={"list": "people-options", "autocomplete": "off"})
    speaker = StringField(_l("Speaker"), validators=[Length(max=100)],
                          description=_l("For a party lecture: who gives it (may be a guest)."))
    recorder = StringField(_l("Recorder"), validators=[Length(max=64)],
                           description=_l("Marks the roster and writes the minutes; confirms "
                                          "the record."),
                           render_kw={"list": "people-options", "autocomplete": "off"})
    leave_counts_as_expected = BooleanField(
        _l("Approved leave stays in the attendance rate's denominator"))
    checkin_opens_before = IntegerField(
        _l("Check-in opens (minutes before the start)"), default=30,
        validators=[InputRequired(), NumberRange(min=0, max=240)])
    checkin_closes_after = IntegerField(
        _l("Check-in closes (minutes after the start)"), default=60,
        validators=[InputRequired(), NumberRange(min=0, max=600)])
    late_after_minutes = IntegerField(
        _l("Late after (minutes past the start)"), default=5,
        validators=[InputRequired(), NumberRange(min=0, max=600)])
    material_ids = SelectMultipleField(
        _l("Materials"), coerce=int, choices=[],
        description=_l("Materials of this unit or of the units above it; attendees read "
                       "them from the session's page."))
    quiz_ids = SelectMultipleField(
        _l("Related quizzes"), coerce=int, choices=[],
        description=_l("Published quizzes; an attendee sees those they are expected to "
                       "take."))
    recording_material_id = SelectField(
        _l("Recording"), coerce=int, choices=[], default=0,
        description=_l("A recorded party lecture: attendees watch it from the session's "
                       "page and are marked present once they have completed it."))
    plan_item_id = SelectField(_l("Plan item"), coerce=int, choices=[], default=0,
                               description=_l("The item of the unit's study plan this "
                                              "session carries out."))

    def __init__(self, *args, unit_choices=(), find_people=None, locked=frozenset(),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, k.label) for k in SessionKind)
        self.owner_unit_id.choices = choices(unit_choices)
        #: find_people(unit_id, text) -> [Person]: the route's scoped lookup.
        self.find_people = find_people
        self.people: dict[str, int | None] = {}
        self.locked = locked
        initial = kwargs.get("data") or {}
        for name in locked:
            field = self[name]
            field.render_kw = {**(field.render_kw or {}), "disabled": True}
            if getattr(field, "raw_data", None) == []:  # disabled inputs are not sent
                field.data, field.validators = initial.get(name), ()

    @staticmethod
    def data_of(session: StudySession) -> dict:
        start, end = _local(session.starts_at), _local(session.ends_at)
        return {
            "kind": session.kind.value, "owner_unit_id": session.owner_unit_id,
            "topic": session.topic, "day": start.date(), "start_time": start.time(),
            "end_time": end.time(), "place": session.place,
            "online_url": session.online_url or "",
            "host": session.host.account if session.host else "",
            "speaker": session.speaker,
            "recorder": session.recorder.account if session.recorder else "",
            "leave_counts_as_expected": session.leave_counts_as_expected,
            "checkin_opens_before": session.checkin_opens_before,
            "checkin_closes_after": session.checkin_closes_after,
            "late_after_minutes": session.late_after_minutes,
            "recording_material_id": session.recording_material_id or 0,
            "plan_item_id": session.plan_item_id or 0,
        }

    def set_link_choices(self, materials, quizzes, recordings, plan_items) -> None:
        """The pickers' choices, from the route's scoped queries (links.py)."""
        none = [(0, _l("None"))]
        self.material_ids.choices = choices(materials)
        self.quiz_ids.choices = choices(quizzes)
        self.recording_material_id.choices = choices(none + list(recordings))
        self.plan_item_id.choices = choices(none + list(plan_items))

    def values(self) -> dict:
        day = self.day.data
        return {
            "kind": SessionKind(self.kind.data), "owner_unit_id": self.owner_unit_id.data,
            "topic": self.topic.data.strip(),
            "starts_at": _utc(datetime.combine(day, self.start_time.data)),
            "ends_at": _utc(datetime.combine(day, self.end_time.data)),
            "place": (self.place.data or "").strip(),
            "online_url": (self.online_url.data or "").strip() or None,
            "host_id": self.people.get("host"), "speaker": (self.speaker.data or "").strip(),
            "recorder_id": self.people.get("recorder"),
            "leave_counts_as_expected": bool(self.leave_counts_as_expected.data),
            "checkin_opens_before": self.checkin_opens_before.data,
            "checkin_closes_after": self.checkin_closes_after.data,
            "late_after_minutes": self.late_after_minutes.data,
            "material_ids": list(self.material_ids.data or []),
            "quiz_ids": list(self.quiz_ids.data or []),
            "recording_material_id": (self.recording_material_id.data or None)
            if self.kind.data == SessionKind.PARTY_LECTURE.value else None,
            "plan_item_id": self.plan_item_id.data or None,
        }

    def validate_end_time(self, field):
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_place(self, field):
        if not (field.data or "").strip() and not (self.online_url.data or "").strip():
            raise ValidationError(_l("Give the place, or a link for a session held online."))

    def validate_online_url(self, field):
        parts = urlsplit((field.data or "").strip())
        if field.data and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValidationError(_l("Give a full address starting with https://."))

    def validate_host(self, field):
        self._person("host", field)

    def validate_recorder(self, field):
        self._person("recorder", field)

    def _person(self, name: str, field) -> None:
        text = (field.data or "").strip()
        if not text:
            self.people[name] = None
            return
        found = self.find_people(self.owner_unit_id.data, text) if self.find_people else []
        if not found:
            # The typed text is in the message: it is escaped when printed (a plain str,
            # like every lazy string of studyhall.i18n).
            raise ValidationError(_("Nobody of this unit is called “%(text)s”.", text=text))
        if len(found) > 1:
            raise ValidationError(_("Several people are called “%(text)s”: type the "
                                    "account instead.", text=text))
        self.people[name] = found[0].id


def _local(value: datetime) -> datetime:
    return to_user_timezone(value).replace(tzinfo=None)


def _utc(value: datetime) -> datetime:
    return to_utc(value).replace(tzinfo=None)


class RecordForm(Form):
    minutes = TextAreaField(_l("Minutes"), validators=[Length(max=50000)],
                            description=_l("Markdown: a line starting with # is a heading, "
                                           "with - a list item; **bold**."),
                            render_kw={"rows": 14})
    resolutions = TextAreaField(_l("Resolutions"), validators=[Length(max=20000)],
                                description=_l("What the meeting decided, one per line."),
                                render_kw={"rows": 5})


class AttachmentForm(Form):
    kind = SelectField(_l("Kind"), choices=[])
    files = MultipleFileField(_l("Files"), validators=[DataRequired(_l("Choose a file."))])
    caption = StringField(_l("Caption"), validators=[Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices([("photo", _l("Photos")),
                                     ("attachment", _l("Attachment (notice, sign-in sheet, "
                                                       "resolution…)"))])


class LeaveRequestForm(Form):
    reason = TextAreaField(_l("Reason for leave"), validators=[DataRequired(_l("Give a reason.")),
                                                     Length(max=500)],
                           render_kw={"rows": 3})


class ReopenForm(Form):
    reason = TextAreaField(_l("Reason for the correction"),
                           validators=[DataRequired(_l("Give the reason for the correction.")),
                                       Length(max=500)],
                           description=_l("Kept in the audit trail with the earlier version."),
                           render_kw={"rows": 3})


class UnitSettingsForm(Form):
    record_working_days = IntegerField(
        _l("Record due within (working days after the meeting)"),
        validators=[Optional(), NumberRange(min=1, max=30)],
        description=_l("Leave empty to use the value of the unit above."))
