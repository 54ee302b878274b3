"""The test set-up itself: it must never empty a database that is not a test database."""

import pytest

from tests.app.conftest import checked_test_database_url


@pytest.mark.parametrize("url", [
    "postgresql://studyhall:studyhall@127.0.0.1:5432/studyhall",
    "postgresql://studyhall:studyhall@127.0.0.1:5432/studyhall_test_copy",
    "postgresql://studyhall:studyhall@127.0.0.1:5432/test",
    "postgresql://studyhall:studyhall@127.0.0.1:5432/",
])
def test_a_database_not_named_for_tests_is_refused(url):
    with pytest.raises(pytest.fail.Exception, match="ends in _test"):
        checked_test_database_url(url)


@pytest.mark.parametrize("name", ["studyhall_test", "studyhall_h5_test"])
def test_test_databases_are_accepted(name):
    url = f"postgresql://studyhall:studyhall@127.0.0.1:5432/{name}"
    assert checked_test_database_url(url) == url.replace("postgresql://",
                                                         "postgresql+psycopg://")


def test_the_ci_database_is_a_test_database():
    """.ci/start-postgres creates and prints the database CI runs on."""
    from pathlib import Path

    script = (Path(__file__).parents[2] / ".ci" / "start-postgres").read_text()
    url = script.strip().splitlines()[-1].split('"')[1]
    checked_test_database_url(url)


@pytest.mark.parametrize("worker, name", [
    ("", "studyhall_test"), ("gw0", "studyhall_gw0_test"), ("gw1", "studyhall_gw1_test")])
def test_each_xdist_worker_gets_a_test_database_of_its_own(worker, name):
    """`make test` runs in pytest-xdist workers that must never empty each other's tables:
    each derives its own database from TEST_DATABASE_URL, still named for tests."""
    from tests.app.conftest import worker_database_url

    url = checked_test_database_url("postgresql://studyhall:studyhall@127.0.0.1:5432/"
                                    "studyhall_test")
    derived = worker_database_url(url, worker)
    assert derived == url.replace("studyhall_test", name)
    assert checked_test_database_url(derived) == derived
