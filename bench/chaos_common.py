"""Shared by the bench/chaos_*.py scripts (`make chaos`, RELIABILITY.md "Faults"): gunicorn
with its master's pid at hand, a killer of its workers, the checks every run prints.

Each script says what it tried and what held, line by line ("HELD: …" / "FAILED: …"),
and exits 1 when anything did not hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import bench_quiz_load as load
import loadapp

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


class Verdicts:
    """What held and what did not, printed as it is found."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failed: list[str] = []
        self.held: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        (self.held if ok else self.failed).append(what)
        print(f"    {'HELD' if ok else 'FAILED'}: {what}", flush=True)
        return ok

    def finish(self) -> None:
        print(f"\n{self.name}: {len(self.held)} checks held, {len(self.failed)} failed",
              flush=True)
        if self.failed:
            raise SystemExit(1)


def database_choice(wanted: str) -> list[str]:
    names = ["sqlite", "postgresql"] if wanted == "both" else [wanted]
    if "postgresql" in names and not os.environ.get("BENCH_DATABASE_URL"):
        print("BENCH_DATABASE_URL is not set: PostgreSQL skipped", flush=True)
        names.remove("postgresql")
    return names


@contextlib.contextmanager
def gunicorn(url: str, log: Path, workers: int = 2, threads: int = 4,
             env: dict | None = None, app: str = "loadapp:create()"):
    """gunicorn (gthread) serving loadapp on ``url`` in its own process group; yields
    (base URL, the master's Popen). Stopped however the block ends."""
    port = load.free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", "gthread",
               "--threads", str(threads), "--keep-alive", "30",
               "--pythonpath", f"{ROOT},{BENCH_DIR}", "--error-logfile", str(log),
               "--log-level", "warning", "--timeout", "60", "--backlog", "2048", app]
    full_env = {**os.environ, loadapp.URL_VARIABLE: url, **(env or {})}
    process = subprocess.Popen(command, cwd=ROOT, env=full_env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(load.wait_ready(base, process))
        yield base, process
    finally:
        load.stop_group(process)


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


class WorkerKiller:
    """A thread that sends SIGKILL to one of the master's workers, picked at random,
    every ``every`` seconds from ``start()`` (the load's set-up, logging in, is not under
    fire) until the block ends; it never touches the master."""

    def __init__(self, master: int, every: float = 5.0, seed: int = 1) -> None:
        self.master, self.every = master, every
        self.kills: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._rng = random.Random(seed)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerKiller:
        return self

    def start(self) -> None:
        self.started = time.perf_counter()
        self._thread.start()

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            workers = children(self.master)
            if not workers:
                continue
            victim = self._rng.choice(workers)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
                self.kills.append((time.perf_counter(), victim))


def tracebacks(log: Path) -> int:
    return log.read_text(errors="replace").count("Traceback") if log.exists() else 0


def first_traceback(log: Path, n: int = 40) -> str:
    """The lines from the first traceback in the log on."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    start = next((i for i, line in enumerate(lines) if "Traceback" in line), len(lines))
    return "\n".join(lines[max(0, start - 2):start + n])


async def retried(session, method: str, url: str, ok, attempts: int = 40, pause: float = 0.5,
                  **kwargs) -> tuple[int, str, str, int]:
    """The request sent again until ``ok(status, body, location)`` (a killed worker drops
    the connection: status 0; a restarting one may answer 503), as the pages' scripts
    resend. Returns the last status, body, Location and how many tries it took."""
    for attempt in range(1, attempts + 1):
        status, body, location = await load.timed_request(session, method, url, [], **kwargs)
        if ok(status, body, location):
            return status, body, location, attempt
        await asyncio.sleep(pause)
    return status, body, location, attempts
