"""A check-in refused to someone not on the session's list names nothing of it (issue 12,
item 1: "objects outside scope answer 404 without revealing titles"). Before, the QR
scan's refusal showed the session's topic, kind, time and place with a 403: a photo of
the screen sent to anyone told them what was being held, where and when."""

from __future__ import annotations

import pytest

from studyhall.extensions import db
from studyhall.sessions import checkin
from studyhall.sessions.models import Attendance
from tests.app.session_fixtures_e2 import *  # noqa: F403  (fixtures)
from tests.factories import PASSWORD

TOPIC = "内部通报：某校违纪问题专题会"
PLACE = "三楼保密会议室"


def scan_url(session, clock) -> str:
    return f"/checkin/{session.id}/{checkin.token_for(session, checkin.step_of(clock.now))}"


def assert_names_nothing(response, session) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'data-outcome="not_expected"' in body
    assert TOPIC not in body and PLACE not in body
    assert session.kind.label not in body
    assert db.session.get(Attendance, (session.id, response.viewer_id)) is None


@pytest.fixture()
def secret_session(make_session, org):
    return make_session([org.teacher], topic=TOPIC, place=PLACE)


@pytest.mark.parametrize("who", ["outsider", "secretary"])
def test_a_scan_by_someone_not_on_the_list_names_nothing(client, org, login, clock,
                                                         secret_session, who):
    """Someone of another branch, and the secretary whose scope holds the session but
    who is not on its list (the organiser checks in nobody by scanning)."""
    person = getattr(org, who)
    login(person)
    response = client.get(scan_url(secret_session, clock))
    response.viewer_id = person.id
    assert_names_nothing(response, secret_session)
    assert "You are not on the list of expected attendees" in response.get_data(as_text=True)


def test_a_scan_before_signing_in_names_nothing_after_it(client, org, clock,
                                                          secret_session):
    response = client.get(scan_url(secret_session, clock))
    assert response.status_code == 302 and "/login" in response.location
    response = client.post(response.location, data={"account": org.outsider.account,
                                                    "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(response.location)
    response.viewer_id = org.outsider.id
    assert_names_nothing(response, secret_session)


def test_a_typed_code_of_another_session_names_nothing(client, org, login, clock,
                                                       secret_session):
    login(org.outsider)
    code = checkin.code_for(secret_session, checkin.step_of(clock.now))
    response = client.post("/checkin", data={"code": code})
    response.viewer_id = org.outsider.id
    assert_names_nothing(response, secret_session)


def test_those_on_the_list_still_see_what_they_checked_in_to(client, org, login, clock,
                                                            secret_session):
    login(org.teacher)
    response = client.get(scan_url(secret_session, clock))
    assert response.status_code == 302
    body = client.get(response.location).get_data(as_text=True)
    assert TOPIC in body and PLACE in body


def test_a_made_up_scan_url_tells_nothing_of_which_sessions_exist(client, org, make_session,
                                                                  secret_session):
    """A code that is not the session's, on a session that exists, a draft, and an id
    that does not exist: the same page, the same status. Before, only the id that
    existed answered "not valid" and the others 404: ids could be enumerated."""
    from studyhall.sessions.models import SessionStatus

    draft = make_session([org.teacher])
    draft.status = SessionStatus.DRAFT
    db.session.commit()
    pages = set()
    for session_id in (secret_session.id, draft.id, secret_session.id + 1000):
        url = f"/checkin/{session_id}/0123456789abcdef"
        response = client.get(url)
        # The page's own URL (the language links' "next") is the one difference.
        pages.add((response.status_code, response.get_data(as_text=True).replace(url, "URL")))
    assert len(pages) == 1
    status, body = pages.pop()
    assert status == 404 and 'data-outcome="invalid"' in body
