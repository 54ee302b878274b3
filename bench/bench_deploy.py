"""A city on more than one machine, proven on this one (issue 12, items 9–10).

Starts the real parts, each its own process, and stops them all afterwards:

- Debian's nginx (/usr/sbin/nginx) on deploy/nginx/studyhall.conf itself, with only its
  ports, addresses, certificate (a self-signed one made here) and static path substituted,
  its own prefix and temp paths in a temporary folder, on high ports;
- redis-server on its own port (installed with apt-get when missing), the failed-login
  counters' storage (RATELIMIT_STORAGE_URI);
- PostgreSQL on 127.0.0.1:5432, a database of its own (BENCH_DEPLOY_DATABASE_URL; its
  schema is dropped and rebuilt);
- INSTANCES app "hosts", each a copy of the code in its own folder (so each has its own
  instance folder, as separate machines would) run by gunicorn with
  deploy/gunicorn.conf.py and the production config (STUDYHALL_CONFIG=production, one
  SECRET_KEY, TRUSTED_PROXIES=1, FILE_STORAGE_DIR and EXPORT_DIR in a shared folder), each
  its own gunicorn master and workers on its own port.

Then, through nginx over TLS (aiohttp, one connection per taker):

1. TAKERS takers log in, and press Start on one exam at one instant; each loads the paper
   and saves ANSWERS answers back to back, then all submit at one instant. A save that
   is not acknowledged (a 502 while a host dies, a refused connection) is resent, as the
   exam page does; only a 200 {"ok": true} counts as acknowledged.
2. With two or more instances, one instance is killed whole (SIGKILL to its process
   group: the master and every worker at once) once KILL_AT of the saves are
   acknowledged, and started again DOWN seconds later.
3. Checked in the database: one attempt per taker, every attempt submitted with a score,
   the score equal to the sum of its answers' scores (graded once), and every
   acknowledged answer stored as sent, answer by answer.

And, against the instances directly (as nginx would reach them), the parts that must not
live in one process: the failed-login limit per account holds across instances (3 wrong
passwords on one, 3 on the other: the sixth is refused with 429, and the counters are in
Redis, not in the database); a roster import previewed on one instance is confirmed on
the other; a session signed out on one is refused on the other.

    .venv/bin/python bench/bench_deploy.py                       # 2 instances, kill one
    .venv/bin/python bench/bench_deploy.py --instances 1 --no-kill   # the baseline
    BENCH_DEPLOY_DATABASE_URL=postgresql+psycopg://studyhall:…@127.0.0.1:5432/studyhall_bench \\
        .venv/bin/python bench/bench_deploy.py --takers 1000 --answers 10 --workers 2

Needs aiohttp and the redis client (`pip install '.[bench,production]'`). A few minutes
on two cores; figures in RELIABILITY.md.
"""

# No "from __future__ import annotations": run_all.py style scripts load bench modules
# without sys.modules entries (see bench_quiz_load.py).
import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import harness
import sqlalchemy as sa
from bench_quiz_load import (
    CSRF_INPUT,
    PASSWORD,
    answer_for,
    free_port,
    parse_paper,
    percentile,
    setup_database,
)

try:
    import aiohttp
except ImportError:  # pragma: no cover - a bench-only tool
    raise SystemExit("bench_deploy needs aiohttp: .venv/bin/pip install aiohttp") from None

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
NGINX = "/usr/sbin/nginx"
DEFAULT_URL = "postgresql+psycopg://studyhall:studyhall@127.0.0.1:5432/studyhall_d1_bench"
#: What each app host gets of the checkout (the rest is tests, docs, benchmarks).
CODE = ("studyhall", "templates", "translations", "migrations", "question_bank", "deploy",
        "config.py")
REQUEST_TIMEOUT = 60
RETRY_PAUSE = 0.5
#: A taker gives up resending after this long (the run then fails its checks).
GIVE_UP = 180
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TOKEN_INPUT = re.compile(r'name="token"[^>]*value="([^"]+)"')
ATTEMPT_URL = re.compile(r"/attempts/(\d+)$")
NGINX_UPSTREAM_ERROR = re.compile(
    r"connect\(\) failed \([^)]*\)|recv\(\) failed \([^)]*\)|upstream prematurely closed"
    r"|no live upstreams|upstream timed out")


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takers", type=int, default=1000)
    parser.add_argument("--answers", type=int, default=10)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--no-kill", dest="kill", action="store_false",
                        help="do not kill an instance during the saves")
    parser.add_argument("--kill-at", type=float, default=0.3,
                        help="kill once this share of the saves is acknowledged")
    parser.add_argument("--down", type=float, default=5.0,
                        help="seconds the killed instance stays down")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args(argv)
    options.url = os.environ.get("BENCH_DEPLOY_DATABASE_URL", DEFAULT_URL)
    if options.instances < 2:
        options.kill = False
    return options


# --- the parts --------------------------------------------------------------------------

def ensure_redis() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    print("redis-server missing: apt-get install -y redis-server", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def start_group(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """A process in its own process group (killed whole with killpg), output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, **kwargs)


def stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # workers left by a master gone first
        os.killpg(process.pid, signal.SIGKILL)


def group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True,
                         text=True).stdout
    return [int(pid) for pid in out.split()]


@dataclass
class Host:
    """One app "machine": its own copy of the code and its own gunicorn."""

    name: str
    folder: Path
    port: int
    env: dict
    log: Path
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c",
                   str(self.folder / "deploy" / "gunicorn.conf.py"), "studyhall:create_app()"]
        self.process = start_group(command, self.log, cwd=self.folder, env=self.env)

    def kill(self) -> int:
        """SIGKILL to the master and every worker at once; returns how many died."""
        members = group_members(self.process.pid)
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return len(members)


def make_host(tmp: Path, index: int, shared: Path, options, redis_port: int,
              secret_key: str) -> Host:
    folder = tmp / f"host{index + 1}"
    folder.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "instance", "*.pyc")
    for name in CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=ignore)
        else:
            shutil.copy2(source, folder / name)
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("STUDYHALL_", "FLASK_"))}
    env.update({
        "STUDYHALL_CONFIG": "production",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": options.url,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_port}/0",
        "TRUSTED_PROXIES": "1",
        "FILE_STORAGE_DIR": str(shared / "files"),
        "EXPORT_DIR": str(shared / "exports"),
        "STUDYHALL_BIND": f"127.0.0.1:{port}",
        "STUDYHALL_WORKERS": str(options.workers),
        "FLASK_APP": "studyhall",
        "PYTHONPATH": str(folder),
    })
    return Host(f"instance {index + 1}", folder, port, env, tmp / f"gunicorn-{index + 1}.log")


def nginx_config(tmp: Path, hosts: list[Host], http_port: int, https_port: int) -> Path:
    """deploy/nginx/studyhall.conf with this run's ports, hosts, certificate and static
    folder, inside a main config of its own (prefix, pid, logs and temp paths in tmp)."""
    site = (ROOT / "deploy" / "nginx" / "studyhall.conf").read_text(encoding="utf-8")
    # Each host line keeps the shipped file's parameters, only the address changes.
    params = re.search(r"upstream studyhall_app \{\n    server \S+ ([^;]*);", site).group(1)
    servers = "".join(f"    server 127.0.0.1:{h.port} {params};\n" for h in hosts)
    substitutions = [
        (r"(upstream studyhall_app \{\n)(?:    server [^\n]+\n)+", rf"\g<1>{servers}"),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"\n    listen \[::\]:[^\n]+", ""),
        (r"/etc/ssl/certs/study\.example\.edu\.cn\.pem", str(tmp / "cert.pem")),
        (r"/etc/ssl/private/study\.example\.edu\.cn\.key", str(tmp / "key.pem")),
        (r"/srv/studyhall/studyhall/static/", f"{hosts[0].folder}/studyhall/static/"),
    ]
    for pattern, replacement in substitutions:
        site, count = re.subn(pattern, replacement.replace("\\g<1>", "\\g<1>"), site)
        if not count:
            raise SystemExit(f"deploy/nginx/studyhall.conf: {pattern!r} not found")
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / "nginx" / name).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx/body;
    proxy_temp_path {tmp}/nginx/proxy;
    fastcgi_temp_path {tmp}/nginx/fastcgi;
    uwsgi_temp_path {tmp}/nginx/uwsgi;
    scgi_temp_path {tmp}/nginx/scgi;
    include {tmp}/site.conf;
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def self_signed_certificate(tmp: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=study.example.edu.cn", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem")], check=True, capture_output=True)


async def wait_ready(url: str, process: subprocess.Popen, what: str,
                     timeout: float = 90, each: float = 3) -> float:
    """Seconds until ``url`` answers 200 (each try given ``each`` seconds)."""
    began = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as client:
        while time.monotonic() - began < timeout:
            if process.poll() is not None:
                raise SystemExit(f"{what} exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with client.get(url, timeout=aiohttp.ClientTimeout(total=each)) as reply:
                    if reply.status == 200:
                        return time.monotonic() - began
            await asyncio.sleep(0.2)
    raise SystemExit(f"{what} did not answer {url} within {timeout:.0f} s")


# --- clients ----------------------------------------------------------------------------

class Direct:
    """A browser talking to one instance directly, as nginx does: plain HTTP with
    X-Forwarded-Proto https (so the Secure cookies are kept by hand) and a client address."""

    def __init__(self, base: str, cookies: dict | None = None, address: str = "10.9.0.1"):
        self.base = base
        self.cookies = cookies if cookies is not None else {}
        # A browser's Referer: the CSRF check over HTTPS wants it from the same origin.
        self.headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address,
                        "Referer": base.replace("http://", "https://") + "/"}
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                             timeout=aiohttp.ClientTimeout(total=60))

    def on(self, base: str) -> "Direct":
        """The same browser (the same cookies) sent to another instance."""
        other = Direct(base, self.cookies)
        other.headers = {**self.headers, "Referer": base.replace("http://", "https://") + "/"}
        return other

    async def request(self, method: str, path: str, **kwargs) -> tuple[int, str, str]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with self.session.request(method, self.base + path, headers=headers,
                                        allow_redirects=False, **kwargs) as reply:
            body = await reply.text()
            for header in reply.headers.getall("Set-Cookie", []):
                for name, morsel in SimpleCookie(header).items():
                    gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                    if morsel.value and not gone:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return reply.status, body, reply.headers.get("Location", "")

    async def form_token(self, path: str) -> str:
        status, body, _ = await self.request("GET", path)
        found = CSRF_INPUT.search(body) or META_CSRF.search(body)
        if status != 200 or not found:
            raise SystemExit(f"GET {path}: {status}, no form token")
        return found.group(1)

    async def log_in(self, account: str, password: str = PASSWORD) -> tuple[int, str]:
        token = await self.form_token("/login")
        status, body, location = await self.request(
            "POST", "/login", data={"account": account, "password": password,
                                    "csrf_token": token})
        return status, body

    async def close(self) -> None:
        await self.session.close()


@dataclass
class Taker:
    account: str
    session: aiohttp.ClientSession
    csrf: str = ""
    attempt_id: int = 0
    questions: list = field(default_factory=list)


@dataclass
class Tally:
    """Per step: answered requests (status, seconds) and the resends they needed."""

    samples: dict = field(default_factory=lambda: {s: [] for s in
                                                   ("start", "page", "save", "submit")})
    failures: dict = field(default_factory=lambda: {s: {} for s in
                                                    ("start", "page", "save", "submit")})

    def fail(self, step: str, status: int) -> None:
        self.failures[step][status] = self.failures[step].get(status, 0) + 1


async def until_ok(taker: Taker, step: str, tally: Tally, method: str, path: str, ok,
                   **kwargs) -> tuple[int, str, str]:
    """Send until ``ok(status, body, location)``, pausing RETRY_PAUSE between tries, as
    the exam page resends what was not acknowledged. Each try is timed and counted."""
    began = time.monotonic()
    while True:
        start = time.perf_counter()
        try:
            async with taker.session.request(method, path, allow_redirects=False,
                                             **kwargs) as reply:
                body = await reply.text()
                status, location = reply.status, reply.headers.get("Location", "")
        except (TimeoutError, aiohttp.ClientError) as exc:
            status, body, location = 0, repr(exc), ""
        tally.samples[step].append((status, time.perf_counter() - start))
        if ok(status, body, location):
            return status, body, location
        tally.fail(step, status)
        if time.monotonic() - began > GIVE_UP:
            raise SystemExit(f"{taker.account}: {method} {path} still failing: {status} "
                             f"{body[:200]!r}")
        await asyncio.sleep(RETRY_PAUSE)


def through_nginx(base: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True),
        connector=aiohttp.TCPConnector(limit=1, ssl=False), headers={"Referer": base + "/"},
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


async def log_in_taker(taker: Taker, quiz_id: int, tally: Tally) -> None:
    scratch = Tally()
    _, body, _ = await until_ok(taker, "page", scratch, "GET", "/login",
                                lambda s, b, _l: s == 200 and CSRF_INPUT.search(b))
    token = CSRF_INPUT.search(body).group(1)
    await until_ok(taker, "page", scratch, "POST", "/login",
                   lambda s, _b, loc: s == 302 and loc == "/",
                   data={"account": taker.account, "password": PASSWORD, "csrf_token": token})
    _, body, _ = await until_ok(taker, "page", scratch, "GET", f"/quizzes/{quiz_id}",
                                lambda s, b, _l: s == 200 and CSRF_INPUT.search(b))
    taker.csrf = CSRF_INPUT.search(body).group(1)


async def exam(base: str, accounts: list[str], quiz_id: int, options, hosts: list[Host]
               ) -> dict:
    """The exam through nginx, an instance killed during the saves (with --kill)."""
    takers = [Taker(a, through_nginx(base)) for a in accounts]
    tally = Tally()
    acked: dict[tuple[int, int], object] = {}
    events: dict[str, float] = {}
    try:
        began = time.perf_counter()
        gate = asyncio.Semaphore(50)

        async def one(taker):
            async with gate:
                await log_in_taker(taker, quiz_id, tally)

        await asyncio.gather(*(one(t) for t in takers))
        print(f"  {len(takers)} takers logged in through nginx in "
              f"{time.perf_counter() - began:.1f} s", flush=True)

        # Start, all at one instant, then the paper.
        go = asyncio.Event()

        async def start(taker):
            await go.wait()
            _, _, location = await until_ok(
                taker, "start", tally, "POST", f"/quizzes/{quiz_id}/start",
                lambda s, _b, loc: s == 302 and ATTEMPT_URL.search(loc),
                data={"csrf_token": taker.csrf})
            taker.attempt_id = int(ATTEMPT_URL.search(location).group(1))
            _, body, _ = await until_ok(
                taker, "page", tally, "GET", f"/attempts/{taker.attempt_id}",
                lambda s, b, _l: s == 200 and "csrf-token" in b)
            taker.csrf, taker.questions = parse_paper(body)

        tasks = [asyncio.create_task(start(t)) for t in takers]
        await asyncio.sleep(0.5)
        released = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        events["start span"] = time.perf_counter() - released

        # Saves, back to back; the kill once KILL_AT of them are acknowledged.
        total = len(takers) * options.answers
        killed = asyncio.Event()

        async def save_all(taker, seed):
            import random
            rng = random.Random(seed)
            for position, kind, n in taker.questions[:options.answers]:
                sent, stored = answer_for(kind, n, rng)
                await until_ok(taker, "save", tally, "POST",
                               f"/attempts/{taker.attempt_id}/answers",
                               lambda s, b, _l: s == 200 and '"ok":true' in b.replace(" ", ""),
                               json={"position": position, "response": sent},
                               headers={"X-CSRFToken": taker.csrf})
                acked[(taker.attempt_id, position)] = stored

        async def killer():
            victim = hosts[-1]
            while len(acked) < options.kill_at * total:
                await asyncio.sleep(0.05)
            events["killed at acknowledged"] = len(acked)
            events["killed processes"] = victim.kill()
            events["killed at s"] = time.perf_counter() - saves_began
            print(f"  killed {victim.name} whole ({events['killed processes']:.0f} "
                  f"processes, SIGKILL to its group) after {len(acked)} of {total} saves "
                  f"acknowledged", flush=True)
            killed.set()
            await asyncio.sleep(options.down)
            victim.start()
            events["restarted at s"] = time.perf_counter() - saves_began
            # Under load the restarted master listens before its workers have booted, and
            # nginx queues its share of the saves there: the probe waits its turn.
            events["ready after restart s"] = await wait_ready(
                f"{victim.base}/healthz", victim.process, victim.name, timeout=300, each=60)
            events["acknowledged while down"] = len(acked) - events["killed at acknowledged"]
            print(f"  {victim.name} restarted {options.down:.0f} s later, answering again "
                  f"{events['ready after restart s']:.1f} s after", flush=True)

        saves_began = time.perf_counter()
        jobs = [save_all(t, i) for i, t in enumerate(takers)]
        if options.kill:
            jobs.append(killer())
        await asyncio.gather(*jobs)
        events["save span"] = time.perf_counter() - saves_began

        # Submit, all at one instant.
        go = asyncio.Event()

        async def submit(taker):
            await go.wait()
            await until_ok(taker, "submit", tally, "POST",
                           f"/attempts/{taker.attempt_id}/submit",
                           lambda s, _b, loc: s == 302 and loc.endswith("/result"),
                           data={"csrf_token": taker.csrf})

        tasks = [asyncio.create_task(submit(t)) for t in takers]
        await asyncio.sleep(0.5)
        released = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        events["submit span"] = time.perf_counter() - released
    finally:
        await asyncio.gather(*(t.session.close() for t in takers))
    return {"tally": tally, "acked": acked, "events": events}


def verify(url: str, quiz_id: int, takers: int, acked: dict) -> dict:
    """One attempt per taker, each submitted with a score and graded once (exactly one
    "submit" event: finish_attempts writes one per attempt it claims), every acknowledged
    answer stored as sent. Raises SystemExit on a failed check."""
    from studyhall.quizzes.models import Attempt, AttemptEvent, AttemptQuestion

    engine = sa.create_engine(url)
    problems = []
    with engine.connect() as conn:
        attempts = conn.execute(sa.text(
            "SELECT id, person_id, status, score FROM attempt WHERE quiz_id = :q"),
            {"q": quiz_id}).all()
        submits = dict(conn.execute(
            sa.select(AttemptEvent.attempt_id, sa.func.count())
            .join(Attempt, Attempt.id == AttemptEvent.attempt_id)
            .where(Attempt.quiz_id == quiz_id, AttemptEvent.kind == "submit")
            .group_by(AttemptEvent.attempt_id)).all())
        rows = {(r.attempt_id, r.position): r for r in conn.execute(
            sa.select(AttemptQuestion.attempt_id, AttemptQuestion.position,
                      AttemptQuestion.response, AttemptQuestion.score)
            .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
            .where(Attempt.quiz_id == quiz_id))}
    engine.dispose()
    if len(attempts) != takers or len({a.person_id for a in attempts}) != takers:
        problems.append(f"{len(attempts)} attempts for {takers} takers")
    ungraded = [a.id for a in attempts if a.status.lower() != "submitted" or a.score is None]
    if ungraded:
        problems.append(f"{len(ungraded)} attempts not submitted with a score: {ungraded[:5]}")
    not_once = [a.id for a in attempts if submits.get(a.id) != 1]
    if not_once:
        problems.append(f"{len(not_once)} attempts not graded exactly once: "
                        f"{[(i, submits.get(i)) for i in not_once[:5]]}")
    unscored = sum(1 for row in rows.values() if row.score is None)
    if unscored:
        problems.append(f"{unscored} answer rows without a score")
    lost = [key for key, value in acked.items() if key not in rows
            or rows[key].response != value]
    if lost:
        problems.append(f"{len(lost)} of {len(acked)} acknowledged answers not stored as "
                        f"sent, e.g. {lost[:3]}")
    if problems:
        raise SystemExit("bench_deploy: check failed: " + "; ".join(problems))
    return {"attempts": len(attempts), "graded once": len(attempts) - len(not_once),
            "answers checked": len(acked), "lost": len(lost)}


# --- the checks that must not live in one process --------------------------------------

async def shared_state_checks(hosts: list[Host], url: str, redis_port: int) -> list[str]:
    first, second = hosts[0], hosts[-1]
    lines = []

    # 1. The failed-login limit (5 per account per 10 minutes) across instances.
    statuses = []
    for index in range(6):
        host = first if index % 2 == 0 else second
        client = Direct(host.base, address=f"10.9.1.{index + 1}")
        try:
            status, _ = await client.log_in("no-such-account", "wrong-password")
        finally:
            await client.close()
        statuses.append(status)
    import redis

    keys = redis.Redis(port=redis_port).keys("*")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        in_database = conn.execute(sa.text("SELECT count(*) FROM login_failure")).scalar()
    engine.dispose()
    held = statuses[:5] == [200] * 5 and statuses[5] == 429
    lines.append(f"failed-login limit across instances: statuses {statuses} (alternating "
                 f"{first.name} / {second.name}); {len(keys)} counter keys in Redis, "
                 f"{in_database} rows in login_failure: {'held' if held else 'BROKEN'}")
    if not held or not keys:
        raise SystemExit("bench_deploy: " + lines[-1])

    # 2. A roster import previewed on one instance, confirmed on the other.
    admin = Direct(first.base, address="10.9.2.1")
    try:
        status, _ = await admin.log_in("bench-admin")
        assert status == 302, f"admin login: {status}"
        token = await admin.form_token("/manage/roster")
        csv = "工号,姓名,单位,政治面貌\n" + "".join(
            f"deploy{i:03d},部署{i},压测支部,中共党员\n" for i in range(20))
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", csv.encode("utf-8"), filename="roster.csv",
                       content_type="text/csv")
        status, body, _ = await admin.request("POST", "/manage/roster", data=form)
        found = TOKEN_INPUT.search(body)
        if status != 200 or not found:
            raise SystemExit(f"roster preview on {first.name}: {status} {body[:300]!r}")
        on_second = admin.on(second.base)
        try:
            csrf = (CSRF_INPUT.search(body) or META_CSRF.search(body)).group(1)
            status, body, location = await on_second.request(
                "POST", "/manage/roster/confirm",
                data={"csrf_token": csrf, "token": found.group(1)})
        finally:
            await on_second.close()
    finally:
        await admin.close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        created = conn.execute(sa.text(
            "SELECT count(*) FROM person WHERE account LIKE 'deploy%'")).scalar()
    engine.dispose()
    ok = status == 200 and created == 20
    lines.append(f"roster import previewed on {first.name}, confirmed on {second.name}: "
                 f"{status}, {created} of 20 people created: {'held' if ok else 'BROKEN'}")
    if not ok:
        raise SystemExit("bench_deploy: " + lines[-1] + f" {location} {body[:300]!r}")

    # 3. Signed out on one instance, refused on the other.
    browser = Direct(first.base, address="10.9.3.1")
    other = browser.on(second.base)
    try:
        status, _ = await browser.log_in("taker00000")
        before, _, _ = await other.request("GET", "/account/sessions")
        csrf = await browser.form_token("/account/sessions")
        out, _, _ = await browser.request("POST", "/logout", data={"csrf_token": csrf})
        after, _, where = await other.request("GET", "/account/sessions")
    finally:
        await browser.close()
        await other.close()
    ok = before == 200 and out == 302 and after == 302 and "/login" in where
    lines.append(f"session signed out on {first.name}: on {second.name} {before} before, "
                 f"{after} → {where.split('?')[0]} after: {'held' if ok else 'BROKEN'}")
    if not ok:
        raise SystemExit("bench_deploy: " + lines[-1])
    return lines


# --- the run ----------------------------------------------------------------------------

def step_line(step: str, tally: Tally, span: float | None = None) -> str:
    samples = tally.samples[step]
    good = sorted(t * 1000 for s, t in samples if 200 <= s < 400)
    failed = ", ".join(f"{'no answer' if s == 0 else s}×{n}"
                       for s, n in sorted(tally.failures[step].items())) or "none"
    extra = f", all answered in {span:.2f} s" if span is not None else ""
    return (f"{step:6} {len(samples):6} requests, p50 {percentile(good, 50):6.0f} ms, "
            f"p99 {percentile(good, 99):6.0f} ms{extra}; not acknowledged and resent: "
            f"{failed}")


def main(argv: list[str] | None = None) -> dict:
    options = parse_options(argv if argv is not None else sys.argv[1:])
    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    os.chmod(tmp, 0o755)
    redis_process = nginx = None
    hosts: list[Host] = []
    try:
        redis_server = ensure_redis()
        redis_port = free_port()
        redis_process = start_group([redis_server, "--port", str(redis_port), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no"],
                                    tmp / "redis.log")
        print(f"bench_deploy: {options.instances} instance(s) × {options.workers} sync "
              f"workers behind nginx, redis-server :{redis_port}, "
              f"{sa.engine.make_url(options.url).render_as_string(hide_password=True)}; "
              f"{options.takers} takers × {options.answers} answers; folder {tmp}",
              flush=True)

        began = time.perf_counter()
        harness.reset_postgresql(options.url)
        accounts, (quiz_id,) = setup_database(options.url, options.takers, 1)
        print(f"  database: {len(accounts)} takers, one published exam, "
              f"{time.perf_counter() - began:.0f} s", flush=True)

        shared = tmp / "shared"
        shared.mkdir()
        secret_key = secrets.token_hex(32)
        hosts = [make_host(tmp, i, shared, options, redis_port, secret_key)
                 for i in range(options.instances)]
        for host in hosts:
            host.start()
        for host in hosts:
            asyncio.run(wait_ready(f"{host.base}/healthz", host.process, host.name))
        http_port, https_port = free_port(), free_port()
        self_signed_certificate(tmp)
        config = nginx_config(tmp, hosts, http_port, https_port)
        test = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(config)],
                              capture_output=True, text=True)
        print("  nginx -t: " + " / ".join(test.stderr.strip().splitlines()), flush=True)
        if test.returncode:
            raise SystemExit("nginx -t failed")
        nginx = start_group([NGINX, "-p", str(tmp), "-c", str(config), "-g", "daemon off;"],
                            tmp / "nginx-stdout.log")
        base = f"https://127.0.0.1:{https_port}"
        asyncio.run(wait_ready(f"{base}/healthz", nginx, "nginx"))
        for host in hosts:
            print(f"  {host.name}: gunicorn master {host.process.pid}, "
                  f"{len(group_members(host.process.pid)) - 1} workers, :{host.port}",
                  flush=True)

        results: dict = {}
        if options.instances >= 2:
            for line in asyncio.run(shared_state_checks(hosts, options.url, redis_port)):
                print("  " + line, flush=True)

        began = time.perf_counter()
        run = asyncio.run(exam(base, accounts, quiz_id, options, hosts))
        checked = verify(options.url, quiz_id, options.takers, run["acked"])
        tally, events = run["tally"], run["events"]
        print(f"\n  exam through nginx ({time.perf_counter() - began:.0f} s):")
        print("    " + step_line("start", tally, events["start span"]))
        print("    " + step_line("page", tally))
        print("    " + step_line("save", tally, events["save span"]))
        print("    " + step_line("submit", tally, events["submit span"]))
        saves = [t for s, t in tally.samples["save"] if s == 200]
        print(f"    saves: {len(saves) / events['save span']:.0f} acknowledged/s; "
              f"verified in the database: {checked}")
        if options.kill:
            print(f"    kill: {events['killed processes']:.0f} processes at "
                  f"{events['killed at s']:.1f} s into the saves "
                  f"({events['killed at acknowledged']:.0f} acknowledged), restarted at "
                  f"{events['restarted at s']:.1f} s, answering "
                  f"{events['ready after restart s']:.1f} s later; "
                  f"{events['acknowledged while down']:.0f} saves acknowledged meanwhile")
        tracebacks = sum(h.log.read_text(errors="replace").count("Traceback")
                         for h in hosts if h.log.exists())
        error_log = tmp / "nginx-error.log"
        kinds: dict[str, int] = {}
        if error_log.exists():
            for found in re.finditer(NGINX_UPSTREAM_ERROR, error_log.read_text(errors="replace")):
                kinds[found.group(0)] = kinds.get(found.group(0), 0) + 1
        print(f"    gunicorn tracebacks: {tracebacks}; nginx's upstream errors (each passed "
              f"to the next host or answered 502): "
              f"{', '.join(f'{k} ×{n}' for k, n in sorted(kinds.items())) or 'none'}",
              flush=True)
        results.update(events)
        results.update(checked)
        return results
    finally:
        stop_group(nginx, signal.SIGQUIT)
        for host in hosts:
            stop_group(host.process)
        stop_group(redis_process)
        if options.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
