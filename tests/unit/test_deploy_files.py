"""deploy/ stays in step with the code: the environment file names every variable the
app reads, and nginx's upload limit stays above the app's."""

from __future__ import annotations

import re
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[2]
#: Read by the app but not set on an app host: the test database.
NOT_FOR_HOSTS = {"TEST_DATABASE_URL"}


def variables_read(source: str) -> set[str]:
    """Names read through os.environ, or through config.py's validating readers
    (env_dates, env_int)."""
    return set(re.findall(
        r"""(?:os\.environ(?:\.get\(|\[)|\benv_[a-z]+\()\s*["']([A-Z_]+)["']""", source))


def test_the_environment_file_lists_every_variable_the_app_reads():
    sources = [ROOT / "config.py", *sorted((ROOT / "studyhall").rglob("*.py"))]
    read = set().union(*(variables_read(p.read_text(encoding="utf-8")) for p in sources))
    assert {"SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "EXPORT_DIR",
            "PUBLIC_HOLIDAYS", "ADJUSTED_WORKDAYS", "SESSION_RECORD_WORKING_DAYS"} <= read
    example = (ROOT / "deploy" / "studyhall.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?([A-Z_]+)=", example, re.MULTILINE))
    assert read - NOT_FOR_HOSTS - listed == set()


def test_nginx_takes_a_little_more_than_the_app_accepts():
    conf = (ROOT / "deploy" / "nginx" / "studyhall.conf").read_text(encoding="utf-8")
    nginx_mb = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    app_mb = config.Config.MAX_CONTENT_LENGTH // (1024 * 1024)
    assert app_mb < nginx_mb <= app_mb + 2
