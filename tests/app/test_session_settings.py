"""The record deadline per unit (issue 9, item 2): a unit's own value, else the nearest
ancestor's, else the deployment's (default 3 working days); the reminder counts down
the owner unit's days."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.sessions import queries, settings
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import text


def test_the_nearest_ancestor_that_sets_it_wins(app, branch):
    assert settings.get_record_days(branch.branch_a) == settings.RecordDays(3, None)
    app.config["SESSION_RECORD_WORKING_DAYS"] = 4
    try:
        assert settings.get_record_days(branch.branch_a).days == 4
    finally:
        del app.config["SESSION_RECORD_WORKING_DAYS"]
    settings.set_record_days(branch.admin, branch.top, 5)
    db.session.commit()
    assert settings.get_record_days(branch.branch_a) == settings.RecordDays(5, branch.top)
    settings.set_record_days(branch.secretary, branch.gen_a, 2)
    db.session.commit()
    assert settings.get_record_days(branch.branch_a) == settings.RecordDays(2, branch.gen_a)
    assert settings.get_record_days(branch.branch_b).days == 5  # the other general branch
    assert settings.get_record_days_for([branch.branch_a, branch.branch_b, branch.top]) == {
        branch.branch_a.id: 2, branch.branch_b.id: 5, branch.top.id: 5}
    settings.set_record_days(branch.secretary, branch.gen_a, None)  # inherit again
    db.session.commit()
    assert settings.get_record_days(branch.branch_a).days == 5
    actions = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.action == "session.settings").order_by(AuditEntry.id)).all()
    assert [d["record_working_days"] for d in actions] == [[None, 5], [None, 2], [2, None]]


def test_the_reminder_counts_down_the_units_days(app, branch, make_session):
    # A meeting on Tuesday 8 December 2026 (14:00 in Shanghai); by default due Friday.
    session = make_session("held", starts_at=datetime(2026, 12, 8, 6),
                           ends_at=datetime(2026, 12, 8, 7))
    settings.set_record_days(branch.secretary, branch.gen_a, 1)
    db.session.commit()
    with app.test_request_context():
        (reminder,) = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 8, 12))
        assert reminder.session.id == session.id
        assert reminder.due == date(2026, 12, 9) and reminder.days_left == 1
        (friday,) = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 11, 2))
        assert friday.overdue and friday.days_left == -2
    settings.set_record_days(branch.secretary, branch.branch_a, 5)  # the branch's own
    db.session.commit()
    with app.test_request_context():
        (reminder,) = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 8, 12))
    assert reminder.due == date(2026, 12, 15) and reminder.days_left == 5


def test_whoever_manages_the_unit_sets_it_on_the_settings_page(client, login, branch):
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/settings?unit={branch.branch_a.id}"))
    assert "3" in page and branch.branch_a.name in page
    saved = client.post(f"/manage/sessions/settings?unit={branch.branch_a.id}",
                        data={"record_working_days": "2"})
    assert saved.status_code == 302
    assert settings.get_record_days(branch.branch_a) == settings.RecordDays(2, branch.branch_a)
    refused = client.post(f"/manage/sessions/settings?unit={branch.branch_a.id}",
                          data={"record_working_days": "45"})
    assert refused.status_code == 200
    assert settings.get_record_days(branch.branch_a).days == 2
    # Outside the secretary's scope: 404.
    assert client.get(f"/manage/sessions/settings?unit={branch.branch_b.id}").status_code == 404
    assert client.post(f"/manage/sessions/settings?unit={branch.top.id}",
                       data={"record_working_days": "9"}).status_code == 404
    client.post("/logout")
    login(branch.teacher)
    assert client.get("/manage/sessions/settings").status_code in (403, 404)
