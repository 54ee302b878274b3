"""flask commands: seed-demo, import-roster, create-admin."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _

from studyhall.extensions import db
from studyhall.org.models import Role


@dataclass
class SystemActor:
    """The command line acts for the whole tree, like a bureau administrator."""

    id: None = None
    role: Role = Role.ADMIN
    managed_units: list = field(default_factory=list)


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
@click.option("--create-units", is_flag=True, help="Create missing units along full paths.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option("--passwords-out", type=click.Path(dir_okay=False),
              help="Write new accounts' initial passwords to this CSV instead of the screen.")
@with_appcontext
def import_roster_command(file, create_units, dry_run, passwords_out):
    """Import a roster (.xlsx or .csv). All rows or none: any bad row writes nothing."""
    from studyhall.org import roster
    from studyhall.spreadsheets import SpreadsheetError, read_rows

    with open(file, "rb") as handle:
        data = handle.read()
    try:
        rows = read_rows(data, file)
    except SpreadsheetError as exc:
        raise click.ClickException(str(exc)) from exc
    actor = SystemActor()
    with click.progressbar(length=len(rows), label=_("Checking rows"), file=sys.stderr) as bar:
        plan = roster.plan_rows(actor, rows, create_units=create_units,
                                on_row=lambda: bar.update(1))
    if plan.file_error:
        raise click.ClickException(plan.file_error)
    counts = plan.counts
    click.echo(_("new %(new)d, updated %(updated)d, unchanged %(unchanged)d, errors %(errors)d; "
                 "new units %(units)d", new=counts["new"], updated=counts["updated"],
                 unchanged=counts["unchanged"], errors=counts["error"],
                 units=len(plan.new_units)))
    if not plan.ok:
        for issue in plan.issues:
            click.echo(_("row %(row)d %(column)s «%(value)s»: %(reason)s", row=issue.row,
                         column=issue.column, value=issue.value, reason=issue.reason), err=True)
        raise click.ClickException(_("Nothing was imported: fix the rows above and run again."))
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    passwords = roster.apply_plan(actor, plan)
    db.session.commit()
    click.echo(_("Imported."))
    _show_passwords(passwords, passwords_out)


def _show_passwords(passwords, passwords_out) -> None:
    if not passwords:
        return
    if passwords_out:
        with open(passwords_out, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["账号", "姓名", "初始密码"])
            writer.writerows(passwords)
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
    from studyhall.org import operations
    from studyhall.org.models import Person, PoliticalStatus, Unit

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


def register(app: Flask) -> None:
    for command in (seed_demo_command, import_roster_command, create_admin_command):
        app.cli.add_command(command)
