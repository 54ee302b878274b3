"""The signing key: random and kept in instance/ when none is given; strong in production."""

import os
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import DEV_SECRET_KEY, ProductionConfig, instance_secret_key, secret_key_problem


def test_a_key_is_made_on_first_run_readable_by_its_owner_only(tmp_path):
    key = instance_secret_key(tmp_path / "instance")
    path = tmp_path / "instance" / "secret_key"
    assert len(key) >= 32 and key != DEV_SECRET_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(tmp_path / "instance") == key  # kept across restarts
    assert instance_secret_key(tmp_path / "elsewhere") != key  # random, not shipped


def test_workers_starting_together_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: instance_secret_key(tmp_path), range(16)))
    assert len(keys) == 1
    assert sorted(os.listdir(tmp_path)) == ["secret_key"]  # no candidates left behind


def test_an_unusable_key_file_is_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(RuntimeError, match="delete it"):
        instance_secret_key(tmp_path)


@pytest.mark.parametrize("key", [
    "", DEV_SECRET_KEY, "x" * 31, "a" * 32, "ab" * 32, "0123456789abcdef" * 2,
    "studyhall" * 4, "1234567890" * 4, "qwertyuiopasdfghjklzxcvbnm123456",
])
def test_production_refuses_weak_keys(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    assert secret_key_problem(key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.check()


# Named ids: pytest-xdist's workers each collect the suite and must see the same test ids.
@pytest.mark.parametrize("key", [secrets.token_hex(16), secrets.token_hex(32),
                                 secrets.token_urlsafe(32)], ids=["hex16", "hex32", "urlsafe32"])
def test_production_accepts_random_keys(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    ProductionConfig.check()
