"""Where an answer save's time goes: one process, Flask's test client, no gunicorn.

Sets up the quiz-load database (bench_quiz_load.setup_database), logs one taker in,
starts the exam, then times N answer saves against N bare INSERTs (POST /bench/insert)
and N pings on the same app, and prints cProfile's top functions for the saves (and,
with --starts N, N starts by N other takers, profiled with them, and their submits,
timed).

    .venv/bin/python bench/profile_quiz_save.py [--n 2000] [--db sqlite|postgresql]
        [--sort cumulative|tottime] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

import bench_quiz_load as load
import harness
import loadapp


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--starts", type=int, default=0,
                        help="also profile this many starts (other takers, one each)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        fresh_url = harness.database_urls(Path(tmp))[options.db]
        url = fresh_url()
        accounts, exam_ids = load.setup_database(url, 1, 1)
        app = loadapp.create(url)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        reply = client.post("/login", data={"account": accounts[0], "password": load.PASSWORD,
                                            "csrf_token": token})
        assert reply.status_code == 302, reply.status_code
        page = client.get(f"/quizzes/{exam_ids[0]}").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        reply = client.post(f"/quizzes/{exam_ids[0]}/start", data={"csrf_token": token})
        attempt = int(re.search(r"/attempts/(\d+)", reply.headers["Location"]).group(1))
        csrf, questions = load.parse_paper(client.get(f"/attempts/{attempt}")
                                           .get_data(as_text=True))
        single = [position for position, kind, _ in questions if kind == "single"][0]

        def saves(n: int) -> None:
            for i in range(n):
                reply = client.post(f"/attempts/{attempt}/answers",
                                    json={"position": single, "response": "AB"[i % 2]},
                                    headers={"X-CSRFToken": csrf})
                assert reply.status_code == 200, reply.get_data(as_text=True)

        def inserts(n: int) -> None:
            bare = app.test_client()
            for _ in range(n):
                assert bare.post("/bench/insert").status_code == 200

        def pings(n: int) -> None:
            bare = app.test_client()
            for _ in range(n):
                assert bare.get("/bench/ping").status_code == 200

        saves(50), inserts(50), pings(50)  # warm up
        for label, fn in (("save", saves), ("bare INSERT", inserts), ("ping", pings)):
            began = time.perf_counter()
            fn(options.n)
            seconds = time.perf_counter() - began
            print(f"{label:12} {options.n / seconds:7.0f} req/s  "
                  f"{seconds / options.n * 1000:.2f} ms each (one process, test client)")
        profiler = cProfile.Profile()
        profiler.runcall(saves, options.n)
        if options.starts:
            profile_starts(fresh_url(), options.starts, profiler)
        stats = pstats.Stats(profiler)
        stats.sort_stats(options.sort).print_stats(options.top)


def profile_starts(url: str, n: int, profiler: cProfile.Profile) -> None:
    """N takers log in, then start the exam one after another (timed and profiled),
    then submit one after another (timed only)."""
    accounts, exam_ids = load.setup_database(url, n, 1)
    app = loadapp.create(url)
    clients = []
    for account in accounts:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login", data={"account": account, "password": load.PASSWORD,
                                    "csrf_token": token})
        page = client.get(f"/quizzes/{exam_ids[0]}").get_data(as_text=True)
        clients.append((client, re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                          page).group(1)))
    began = time.perf_counter()
    attempts = []
    profiler.enable()
    for client, token in clients:
        reply = client.post(f"/quizzes/{exam_ids[0]}/start", data={"csrf_token": token})
        attempts.append(int(re.search(r"/attempts/(\d+)", reply.headers["Location"]).group(1)))
    profiler.disable()
    seconds = time.perf_counter() - began
    print(f"start        {n / seconds:7.0f} req/s  {seconds / n * 1000:.2f} ms each "
          f"(one process, profiled)")
    began = time.perf_counter()
    for (client, token), attempt in zip(clients, attempts, strict=True):
        reply = client.post(f"/attempts/{attempt}/submit", data={"csrf_token": token})
        assert reply.status_code == 302 and reply.headers["Location"].endswith("/result")
    seconds = time.perf_counter() - began
    print(f"submit       {n / seconds:7.0f} req/s  {seconds / n * 1000:.2f} ms each "
          f"(one process, 20 answers unsaved)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main(sys.argv[1:])
