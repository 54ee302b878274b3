"""Every user-facing string goes through Flask-Babel and has its zh_CN translation."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_every_message_is_translated_and_not_fuzzy():
    catalog = _catalog()
    assert not catalog.fuzzy
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_translations_keep_every_placeholder():
    for message in _catalog():
        if message.id:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
                PLACEHOLDER.findall(message.string)), message.id


def test_the_catalogue_holds_every_string_in_the_source(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F", "babel.cfg",
         "-k", "_l", "-o", str(pot), "--no-location", "--omit-header", "."],
        cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        source_ids = {m.id for m in read_po(handle) if m.id}
    catalog_ids = {m.id for m in _catalog() if m.id}
    assert sorted(source_ids - catalog_ids) == [], "run `make babel-extract` and translate"
