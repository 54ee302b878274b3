"""The disk full during an upload, an export and an import's passwords file: a clear
error, no partial file, and the app keeps serving (issue 12 item 4).

A tmpfs of SIZE_KB (2 MB) is mounted (`mount -t tmpfs -o size=…`; needs root: the script
says so and stops otherwise) and used as the uploaded files' folder (FILE_STORAGE_DIR)
and the instance folder where big exports are built; the database (SQLite) lives
elsewhere. The app runs in this process (create_app with its production error handlers,
TESTING off, CSRF off), driven by Flask's test client as an admin. A filler file leaves
FREE_KB (30) free, then:

1. upload a 300 KB PDF as a study material: the form must say the disk is full (磁盘已满),
   no file may be left in the storage folder, no material created, the home page 200;
2. export the roster of 3,000 people (.xlsx, as a background job): the job must end
   "failed" (or not start: 507 with 磁盘已满), and leave no .part or .tmp file behind;
3. the same export with the disk filled to the last byte: 507 with 磁盘已满;
4. `flask import-roster --passwords-out` onto the full disk: exit 1 with the reason,
   nothing imported, no partial passwords file;
5. the filler removed: the same upload, export and import succeed.

    .venv/bin/python bench/chaos_disk.py     # ~1 minute; SQLite only (the files are the point)
"""

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_quiz_load as load
import chaos_common as chaos
import sqlalchemy as sa

import config
from studyhall import create_app
from studyhall.extensions import db

FULL_ZH = "磁盘已满"


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-kb", type=int, default=2048)
    parser.add_argument("--free-kb", type=int, default=30)
    parser.add_argument("--people", type=int, default=3000)
    return parser.parse_args(argv)


@contextlib.contextmanager
def small_disk(folder: Path, size_kb: int):
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"chaos_disk: cannot mount a tmpfs here ({done.stderr.strip()}); "
                         "run as root on a machine that allows it")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def fill(disk: Path, leave_kb: int) -> Path:
    """A filler file taking all but ``leave_kb`` of the disk."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    size = max(0, free - leave_kb * 1024)
    with contextlib.suppress(OSError), open(filler, "wb") as handle:
        for _ in range(size // 65536):
            handle.write(b"\0" * 65536)
        handle.write(b"\0" * (size % 65536))
    return filler


def fill_to_the_last_byte(disk: Path) -> None:
    with contextlib.suppress(OSError), open(disk / "filler-last", "wb") as handle:
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()


def leftovers(disk: Path) -> list[str]:
    return sorted(str(p.relative_to(disk)) for p in disk.rglob("*")
                  if p.is_file() and not p.name.startswith("filler")
                  and p.name != "secret_key")


def pdf(size: int) -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    return body + os.urandom(size - len(body) - 6) + b"\n%%EOF"


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv or [])
    verdicts = chaos.Verdicts("chaos_disk")
    print(f"chaos_disk: a {options.size_kb} KB tmpfs as the files' and exports' folder, "
          f"{options.free_kb} KB left free", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-disk-") as tmp, \
            small_disk(Path(tmp) / "disk", options.size_kb) as disk:
        url = f"sqlite:///{Path(tmp) / 'chaos.sqlite3'}"
        load.setup_database(url, options.people, 1)
        files, instance = disk / "files", disk / "instance"

        class DiskConfig(config.TestingConfig):
            TESTING = False
            SQLALCHEMY_DATABASE_URI = url
            FILE_STORAGE_DIR = str(files)
            EXPORT_INLINE_ROWS = 0

        app = create_app(DiskConfig)
        app.instance_path = str(instance)
        client = app.test_client()
        assert client.post("/login", data={"account": "bench-admin",
                                           "password": load.PASSWORD}).status_code == 302
        with app.app_context():
            from studyhall.org.models import Person, Unit
            from studyhall.study.models import Material
            top_id = db.session.scalar(sa.select(Unit.id).where(Unit.parent_id.is_(None)))

            def materials() -> int:
                db.session.expire_all()
                return db.session.scalar(sa.select(sa.func.count(Material.id)))

            def people() -> int:
                db.session.expire_all()
                return db.session.scalar(sa.select(sa.func.count(Person.id)))

        def upload():
            import io
            return client.post("/manage/study/materials/new?kind=file", data={
                "kind": "file", "title": "磁盘测试资料", "owner_unit_id": top_id,
                "file": (io.BytesIO(pdf(300_000)), "讲话.pdf")},
                content_type="multipart/form-data")

        def export() -> tuple[int, str, str]:
            response = client.get("/manage/stats/roster.xlsx")
            if response.status_code != 302:
                return response.status_code, "", response.get_data(as_text=True)
            job_id = response.location.rsplit("/", 1)[1]
            from studyhall.exports import jobs
            jobs.wait(job_id)
            state = client.get(f"/manage/exports/{job_id}/status").get_json()["state"]
            page = client.get(f"/manage/exports/{job_id}").get_data(as_text=True)
            return 302, state, page

        def import_roster(out: Path):
            import bench_roster_import as roster_bench
            roster_file = Path(tmp) / "roster.xlsx"
            roster_bench.write_xlsx(roster_bench.roster_rows()[:500], roster_file)
            env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(chaos.ROOT),
                   "FLASK_SKIP_DOTENV": "1"}
            return subprocess.run([sys.executable, "-m", "flask", "--app", "studyhall",
                                   "import-roster", str(roster_file), "--create-units",
                                   "--passwords-out", str(out)],
                                  env=env, cwd=chaos.ROOT, capture_output=True, text=True)

        instance.mkdir(exist_ok=True)
        filler = fill(disk, options.free_kb)
        began = time.perf_counter()

        response = upload()
        body = response.get_data(as_text=True)
        verdicts.check(response.status_code == 200 and FULL_ZH in body,
                       f"upload of 300 KB with {options.free_kb} KB free: {response.status_code}"
                       f", the form says 磁盘已满: {FULL_ZH in body}")
        verdicts.check(leftovers(files) == [] if files.exists() else True,
                       f"no partial file in the storage folder: {leftovers(disk)}")
        with app.app_context():
            verdicts.check(materials() == 0, "no material created")
        verdicts.check(client.get("/").status_code == 200, "the home page still answers 200")

        status, state, page = export()
        verdicts.check(status == 302 and state == "failed" or status == 507 and FULL_ZH in page,
                       f"roster export of {options.people} people with {options.free_kb} KB "
                       f"free: {status} {state}")
        verdicts.check(not [p for p in leftovers(disk) if p.endswith((".part", ".tmp"))],
                       f"no partial export left: {leftovers(disk)}")

        fill_to_the_last_byte(disk)
        status, state, page = export()
        verdicts.check(status == 507 and FULL_ZH in page,
                       f"the same export with the disk full to the last byte: {status} "
                       f"{state}, 磁盘已满 on the page: {FULL_ZH in page}")
        verdicts.check(client.get("/").status_code == 200, "the home page still answers 200")

        with app.app_context():
            before = people()
        out = disk / "passwords.csv"
        done = import_roster(out)
        with app.app_context():
            after = people()
        verdicts.check(done.returncode == 1 and "No space left on device" in done.stderr
                       and after == before and not out.exists()
                       and not Path(f"{out}.partial").exists(),
                       f"import-roster --passwords-out onto the full disk: exit "
                       f"{done.returncode}, «{done.stderr.strip().splitlines()[-1][:90]}», "
                       f"people {before} → {after}, passwords file left: {out.exists()}")

        for path in disk.glob("filler*"):
            path.unlink()
        del filler
        response = upload()
        status, state, _page = export()
        done = import_roster(out)
        verdicts.check(response.status_code == 302 and state == "done"
                       and done.returncode == 0 and out.exists(),
                       f"space freed: upload {response.status_code}, export {state}, import "
                       f"exit {done.returncode}")
        print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    verdicts.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
