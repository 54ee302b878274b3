"""flask commands: seed-demo, import-roster, create-admin, import/export-questions,
close-expired, export-scores, export-roster, report, archive, backup, restore,
sweep-files."""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from dataclasses import dataclass, field

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _

from studyhall import audit
from studyhall.extensions import db
from studyhall.org.models import Role


@dataclass
class SystemActor:
    """The command line acts for the whole tree, like a bureau administrator."""

    id: None = None
    role: Role = Role.ADMIN
    managed_units: list = field(default_factory=list)
    is_admin = True
    is_staff = True


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database holds nobody yet.")
@with_appcontext
def seed_demo_command(if_empty):
    """Load the demo organisation and accounts (safe to run again)."""
    from studyhall.demo import DEMO_PASSWORD, database_is_empty, seed_demo

    if if_empty and not database_is_empty():
        click.echo(_("The database already holds people: demo data not loaded."))
        return
    created = seed_demo()
    db.session.commit()
    click.echo(_("Demo data: %(n)d new records.", n=created) if created
               else _("Demo data already present."))
    click.echo(_("Demo logins (password %(password)s): admin, secretary, teacher",
                 password=DEMO_PASSWORD))


@click.command("import-roster")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--create-units", is_flag=True,
              help="Create missing units: the missing end of a path under the part that "
                   "exists, a single name under --parent.")
@click.option("--parent", "parent_path", metavar="UNIT",
              help="With --create-units: the unit (full path or unique name) under which "
                   "missing single-name units are created.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option("--passwords-out", type=click.Path(dir_okay=False),
              help="Write new accounts' initial passwords to this CSV instead of the screen.")
@with_appcontext
def import_roster_command(file, create_units, parent_path, dry_run, passwords_out):
    """Import a roster (.xlsx or .csv). All rows or none: any bad row writes nothing."""
    from studyhall.org import roster
    from studyhall.spreadsheets import SpreadsheetError, read_rows

    with open(file, "rb") as handle:
        data = handle.read()
    try:
        rows = read_rows(data, file)
    except SpreadsheetError as exc:
        raise click.ClickException(str(exc)) from exc
    if parent_path and not create_units:
        raise click.ClickException(_("--parent is used only with --create-units."))
    parent_id = _unit_by_path(parent_path).id if parent_path else None
    actor = SystemActor()
    with click.progressbar(length=len(rows), label=_("Checking rows"), file=sys.stderr) as bar:
        plan = roster.plan_rows(actor, rows, create_units=create_units, parent_id=parent_id,
                                on_row=lambda: bar.update(1))
    if plan.file_error:
        raise click.ClickException(plan.file_error)
    counts = plan.counts
    click.echo(_("new %(new)d, updated %(updated)d, unchanged %(unchanged)d, errors %(errors)d; "
                 "new units %(units)d", new=counts["new"], updated=counts["updated"],
                 unchanged=counts["unchanged"], errors=counts["error"],
                 units=len(plan.new_units)))
    for names in plan.new_units:
        click.echo(_("new unit: %(path)s", path="/".join(names)))
    if not plan.ok:
        for issue in plan.issues:
            click.echo(_("row %(row)d %(column)s «%(value)s»: %(reason)s", row=issue.row,
                         column=issue.column, value=issue.value, reason=issue.reason), err=True)
        raise click.ClickException(_("Nothing was imported: fix the rows above and run again."))
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    passwords = roster.apply_plan(actor, plan)
    audit.record(None, "roster.import", None, file=os.path.basename(file), **plan.counts)
    # The passwords file is written (whole, on disk) before the commit: a full disk or a
    # crash then leaves the import undone rather than accounts nobody knows the password
    # of (they are never stored in plain text).
    if passwords and passwords_out:
        _write_passwords(passwords, passwords_out)
    db.session.commit()
    click.echo(_("Imported."))
    _show_passwords(passwords, passwords_out)


def _write_passwords(passwords, passwords_out) -> None:
    """The CSV of initial passwords, written to a file of its own and renamed into place
    once complete: never a partial file. A write that fails (disk full) stops the import."""
    partial = f"{passwords_out}.partial"
    try:
        with open(partial, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["账号", "姓名", "初始密码"])
            writer.writerows(passwords)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, passwords_out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        db.session.rollback()
        raise click.ClickException(_(
            "Nothing was imported: the initial passwords could not be written to %(path)s "
            "(%(reason)s).", path=passwords_out, reason=exc.strerror or exc)) from exc


def _show_passwords(passwords, passwords_out) -> None:
    if not passwords:
        return
    if passwords_out:
        click.echo(_("Initial passwords of %(n)d new accounts: %(path)s", n=len(passwords),
                     path=passwords_out))
        return
    click.echo(_("Initial passwords (shown once; each must be changed at first login):"))
    for account, name, password in passwords:
        click.echo(f"  {account}\t{name}\t{password}")


@click.command("create-admin")
@click.argument("account")
@click.option("--name", default="管理员")
@click.password_option()
@with_appcontext
def create_admin_command(account, name, password):
    """Create a bureau administrator (the first account of a new installation)."""
    from studyhall.auth.passwords import password_problem
    from studyhall.org import operations
    from studyhall.org.models import Person, PoliticalStatus, Unit

    problem = password_problem(password, account=account)
    if problem:
        raise click.ClickException(problem)
    if db.session.scalar(db.select(Person.id).where(Person.account == account)):
        raise click.ClickException(_("This account is already in use."))
    root = db.session.scalar(db.select(Unit).where(Unit.parent_id.is_(None)))
    if root is None:
        raise click.ClickException(_("Create the top unit first, e.g. with import-roster "
                                     "--create-units, or load the demo data."))
    person, _password = operations.create_person(account=account, name=name, unit=root,
                                         political_status=PoliticalStatus.MASSES,
                                         role=Role.ADMIN, password=password)
    person.must_change_password = False
    db.session.commit()
    click.echo(_("Administrator %(account)s created.", account=account))


FORMAT_NAMES = ["xlsx", "csv", "gift", "aiken", "moodle-xml"]


def _format_option(value: str | None) -> str | None:
    return value.replace("-", "_") if value else None


@click.command("import-questions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Guessed from the name and contents when not given.")
@click.option("--category", default="", help="Put the questions under this category path.")
@click.option("--valid-only", is_flag=True, help="Import the valid questions despite errors.")
@click.option("--duplicates", type=click.Choice(["skip", "update"]), default="skip",
              help="What to do with questions already in their category.")
@click.option("--type-codes", default="",
              help="What numeric codes in the type column mean, e.g. "
                   "1=single,2=multiple,3=true_false,4=fill_blank,5=short_answer.")
@with_appcontext
def import_questions_command(file, fmt, category, valid_only, duplicates, type_codes):
    """Import questions (xlsx, csv, GIFT, Aiken, Moodle XML). A file with errors imports
    nothing unless --valid-only is given; a table with numeric type codes imports nothing
    until --type-codes says what they mean."""
    from studyhall.bank.importing import (
        apply_question_import,
        parse_type_codes,
        plan_question_import,
        split_path,
        type_codes_text,
    )

    try:
        codes = parse_type_codes(type_codes) if type_codes else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--type-codes") from None
    with open(file, "rb") as handle:
        data = handle.read()
    plan = plan_question_import(data, file, format=_format_option(fmt),
                                root=split_path(category), type_codes=codes)
    if plan.file_error:
        raise click.ClickException(plan.file_error)
    counts = plan.counts
    click.echo(_("%(n)d questions read: %(new)d new, %(dup)d already in the bank, "
                 "%(repeat)d repeated in the file", n=len(plan.rows), new=counts["new"],
                 dup=counts["duplicate"], repeat=counts["repeat"]))
    for issue in plan.errors:
        click.echo(str(issue), err=True)
    for item in plan.unsupported:
        click.echo(f"{item.location}：{item.message}", err=True)
    for warning in plan.warnings:
        click.echo(str(warning), err=True)
    if plan.type_codes_unconfirmed:
        raise click.ClickException(_(
            "Nothing was imported: the type column holds numeric codes. Check the guess "
            "above and run again with --type-codes %(codes)s (corrected where it is wrong).",
            codes=type_codes_text(plan.type_codes)))
    if not plan.can_apply(valid_only):
        raise click.ClickException(_("Nothing was imported: fix the lines above, or run "
                                     "again with --valid-only."))
    done = apply_question_import(plan, valid_only=valid_only, duplicates=duplicates)
    audit.record(None, "questions.import", None, file=os.path.basename(file), **done)
    db.session.commit()
    click.echo(_("%(created)d questions added, %(updated)d updated, %(skipped)d skipped.",
                 created=done["created"], updated=done["updated"], skipped=done["skipped"]))


@click.command("export-questions")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Guessed from the file name when not given (xlsx otherwise).")
@click.option("--category", default="", help="Only this category and its subcategories.")
@with_appcontext
def export_questions_command(out, fmt, category):
    """Export questions; refuses (and says why) rather than write a file that changes them."""
    import question_bank as qb
    from studyhall.bank import mapping, queries
    from studyhall.bank.importing import split_path
    from studyhall.bank.models import QuestionCategory

    fmt = _format_option(fmt) or _guess_format(out)
    filters = queries.QuestionFilters()
    if category:
        names = split_path(category)
        ids = {n: cid for cid, n in queries.get_category_names().items()}
        if names not in ids:
            raise click.ClickException(_("No such category: %(path)s", path=category))
        filters.category = db.session.get(QuestionCategory, ids[names])
    names_of = queries.get_category_names()
    rows = list(db.session.scalars(queries.query_questions(filters)))
    questions = [mapping.to_question(row, names_of[row.category_id]) for row in rows]
    try:
        data = qb.dump_questions(questions, fmt)
    except qb.ExportError as exc:
        for problem in exc.problems:
            click.echo(f"#{rows[problem.index].id}：{problem.reason}", err=True)
        raise click.ClickException(_("Nothing was written: these questions cannot be held by "
                                     "that format.")) from exc
    with open(out, "wb") as handle:
        handle.write(data)
    click.echo(_("%(n)d questions written to %(path)s", n=len(questions), path=out))


def _guess_format(path: str) -> str:
    lower = path.lower()
    for suffix, fmt in ((".csv", "csv"), (".gift", "gift"), (".xml", "moodle_xml"),
                        (".aiken", "aiken"), (".txt", "gift")):
        if lower.endswith(suffix):
            return fmt
    return "xlsx"


@click.command("close-expired")
@with_appcontext
def close_expired_command():
    """Submit every attempt past its deadline with its saved answers (run every minute)."""
    from studyhall.quizzes.taking import close_expired

    total = 0
    while True:
        done = close_expired()
        db.session.commit()
        total += done
        if done == 0:
            break
    click.echo(_("%(n)d overdue attempts submitted.", n=total))


def _export_progress(total: int, label: str):
    """A progress bar on stderr (the file itself may go to stdout's directory)."""
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr)


def _read_only_export() -> None:
    """An export only reads: on SQLite its transaction must begin deferred (a command's
    would begin IMMEDIATE and hold the write lock), so a running exam keeps saving."""
    from studyhall.database import read_only

    read_only()


@contextlib.contextmanager
def _audited_file(out: str, action: str, target, **details):
    """Yield a scratch path beside ``out`` for an export to write; once it is complete
    the audit entry is committed in a transaction of its own (audit.record_apart), and
    only then is the file renamed to ``out``. The audit comes first: an export of
    personal data never finishes without its entry, and when the entry cannot be written
    (the database locked past its timeout, or down) the scratch file is removed and the
    command fails, so no file is left behind. An entry whose rename then fails (a full
    disk cannot fail a rename on the same folder; a vanished folder can) records an
    export that did not finish: one entry too many, never one too few."""
    partial = f"{out}.partial"
    try:
        yield partial
        audit.record_apart(None, action, target, file=out, **details)
        os.replace(partial, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


@click.command("export-scores")
@click.option("--quiz", "quiz_id", required=True, type=int, help="The exam's id.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="An .xlsx file (three sheets), or .csv (the score sheet only).")
@click.option("--unit", "unit_path", default="",
              help="Only this unit's subtree (a full path of names, or a unique name).")
@with_appcontext
def export_scores_command(quiz_id, out, unit_path):
    """Write an exam's score sheet (成绩单), its figures by unit and its item analysis."""
    from flask_babel import force_locale

    from studyhall.exports import scores
    from studyhall.quizzes.models import Quiz, QuizMode, QuizStatus
    from studyhall.stats.queries import Filters, count_score_rows, get_unit_names

    _read_only_export()
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or quiz.mode is not QuizMode.EXAM or quiz.status is QuizStatus.DRAFT:
        raise click.ClickException(_("No published exam with id %(id)d.", id=quiz_id))
    actor = SystemActor()
    unit = _unit_by_path(unit_path) if unit_path else None
    filters = Filters(unit)
    total = count_score_rows(quiz, actor, filters)
    with force_locale("zh_CN"), _audited_file(out, "export.scores", quiz,
                                              unit_id=getattr(unit, "id", None)) as partial:
        export = scores.ScoreExport(quiz, actor, filters,
                                    get_unit_names({unit.id})[unit.id] if unit else "")
        with _export_progress(total, _("Writing the score sheet")) as bar:
            if out.lower().endswith(".csv"):
                with open(partial, "wb") as handle:
                    for chunk in scores.iter_sheet_csv(export, "scores"):
                        handle.write(chunk)
                bar.update(total)
            else:
                # The figures beside the people, on the same snapshot (exports/snapshot.py).
                scores.write_score_workbook(partial, export, progress=bar.update,
                                            figures_beside=True)
    click.echo(_("%(n)d people written to %(path)s", n=total, path=out))


@click.command("export-roster")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="An .xlsx or .csv file in the roster import's format.")
@click.option("--unit", "unit_path", default="", help="Only this unit's subtree.")
@with_appcontext
def export_roster_command(out, unit_path):
    """Write the people roster with phone numbers; it imports back unchanged."""
    from studyhall.exports import people

    _read_only_export()
    actor = SystemActor()
    unit = _unit_by_path(unit_path) if unit_path else None
    total = people.count_roster(actor, unit)
    with _audited_file(out, "export.roster", unit, unit_id=getattr(unit, "id", None)) \
            as partial, _export_progress(total, _("Writing the roster")) as bar:
        if out.lower().endswith(".csv"):
            with open(partial, "wb") as handle:
                for chunk in people.iter_roster_csv(actor, unit):
                    handle.write(chunk)
            bar.update(total)
        else:
            people.write_roster_workbook(partial, actor, unit, progress=bar.update)
    click.echo(_("%(n)d people written to %(path)s", n=total, path=out))


@click.command("report")
@click.option("--unit", "unit_path", required=True,
              help="The unit (a full path of names, or a unique name); its subtree counts.")
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD (local).")
@click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD (local), included.")
@click.option("--docx", "docx_out", default="", type=click.Path(dir_okay=False),
              help="Also write the report as a Word document.")
@with_appcontext
def report_command(unit_path, start, end, docx_out):
    """Print the sentences of a work report (汇报数据) for a unit and a period."""
    from flask_babel import force_locale

    from studyhall.model_helpers import utcnow
    from studyhall.stats import report
    from studyhall.stats.periods import PeriodError, local_today, parse_period
    from studyhall.stats.queries import get_unit_names

    _read_only_export()
    now = utcnow()
    unit = _unit_by_path(unit_path)
    with force_locale("zh_CN"):
        try:
            period = parse_period(None, start, end, local_today(now))
        except PeriodError as error:
            raise click.ClickException(str(error)) from None
        data = report.build_report(SystemActor(), unit, period, now)
        for line in data.lines:
            click.echo(line)
        if docx_out:
            with open(docx_out, "wb") as handle:
                handle.write(report.report_docx(data, get_unit_names({unit.id})[unit.id]))
            click.echo(_("Written to %(path)s", path=docx_out), err=True)


@click.command("archive")
@click.option("--unit", "unit_path", required=True,
              help="The unit (a full path of names, or a unique name); its subtree is included.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The first day (local), e.g. 2026-01-01.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The last day (local, included), e.g. 2026-06-30.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The .zip file to write.")
@with_appcontext
def archive_command(unit_path, start, end, out):
    """Write the inspection archive (档案) of a unit and a period as a .zip."""
    from flask_babel import force_locale

    from studyhall.exports import snapshot
    from studyhall.exports.archive import MAX_DAYS, Archive
    from studyhall.model_helpers import utcnow
    from studyhall.org.models import Unit
    from studyhall.stats.periods import DatePeriod
    from studyhall.stats.queries import get_unit_names

    span = DatePeriod(start.date(), end.date())
    if span.end < span.start or (span.end - span.start).days > MAX_DAYS:
        raise click.ClickException(_("Give a period of two years at most, its end after its "
                                     "start."))
    _read_only_export()
    unit_id = _unit_by_path(unit_path).id
    # Every file of the archive reads one snapshot (its score sheets agree with their
    # summaries while an exam runs), reading only.
    snapshot.read_one_snapshot()
    unit = db.session.get(Unit, unit_id)
    with force_locale("zh_CN"), _audited_file(out, "archive.export", unit,
                                              start=span.start.isoformat(),
                                              end=span.end.isoformat()) as partial:
        archive = Archive(SystemActor(), unit, span, utcnow(),
                          get_unit_names({unit.id})[unit.id])
        entries = archive.plan()
        with _export_progress(len(entries) + 1, _("Writing the archive")) as bar:
            archive.write(partial, progress=bar.update)
    click.echo(_("%(n)d files written to %(path)s", n=len(entries) + 1, path=out))


def _unit_by_path(text: str):
    """A unit named by its full path or a unique name, as the roster import reads one."""
    from studyhall.org.models import Unit
    from studyhall.org.roster import UnitResolver

    resolver = UnitResolver(SystemActor(), create_units=False)
    names, reason = resolver.resolve(text)
    if names is None:
        raise click.ClickException(reason)
    return db.session.get(Unit, resolver.by_names[names])


# --- backup and restore (studyhall/backup.py) ------------------------------------------


@click.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (.tar.gz): the database, the uploaded files and a "
                   "manifest with checksums.")
@with_appcontext
def backup_command(out):
    """Back up the database and the uploaded files into one archive (safe while the app
    runs: SQLite's online backup API, pg_dump for PostgreSQL)."""
    from studyhall import backup

    try:
        result = backup.backup(out)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = result.manifest
    click.echo(_("Backup written to %(path)s: revision %(revision)s, %(rows)d rows in "
                 "%(tables)d tables, %(files)d files.", path=result.path,
                 revision=manifest["revision"], rows=backup.rows_in(manifest["tables"]),
                 tables=len(manifest["tables"]), files=len(manifest["files"])))


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True,
              help="Replace a database that already holds rows.")
@with_appcontext
def restore_command(file, force):
    """Restore a backup archive into the configured database and storage folder, after
    checking its manifest, checksums and schema revision; then check what was restored."""
    from studyhall import backup

    try:
        result = backup.restore(file, force=force)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = result.manifest
    click.echo(_("Restored %(path)s (taken %(taken)s): the integrity check passed, "
                 "%(rows)d rows in %(tables)d tables and %(files)d files match the "
                 "manifest.", path=result.path, taken=manifest["created_at"],
                 rows=backup.rows_in(manifest["tables"]), tables=len(manifest["tables"]),
                 files=len(manifest["files"])))


@click.command("sweep-files")
@click.option("--dry-run", is_flag=True, help="List the files; remove nothing.")
@with_appcontext
def sweep_files_command(dry_run):
    """Remove the uploaded files no row points to (left by a process killed between
    writing a file and committing its row), older than an hour so that nothing being
    uploaded now is touched."""
    from studyhall import storage

    found = storage.sweep(dry_run=dry_run)
    db.session.rollback()
    for path, size in found:
        click.echo(f"{path}\t{size}")
    total = sum(size for _path, size in found)
    if dry_run:
        click.echo(_("%(n)d files no row points to (%(bytes)d bytes); nothing removed "
                     "(--dry-run).", n=len(found), bytes=total))
    else:
        click.echo(_("%(n)d files no row points to removed (%(bytes)d bytes).",
                     n=len(found), bytes=total))


def register(app: Flask) -> None:
    for command in (seed_demo_command, import_roster_command, create_admin_command,
                    import_questions_command, export_questions_command,
                    close_expired_command, export_scores_command, export_roster_command,
                    report_command, archive_command, backup_command, restore_command,
                    sweep_files_command):
        app.cli.add_command(command)
