"""Writes on units and people: change and flush; the request (or command) commits once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from studyhall import audit
from studyhall.auth.scope import role_scope_paths, scope_paths
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import (
    Person,
    PoliticalStatus,
    Role,
    Unit,
    UnitKind,
    hash_password,
    utcnow,
)
from studyhall.org.permissions import rights_below

# No 0/O, 1/l/I: initial passwords are read off a screen or a printout.
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


class OrgError(ValueError):
    """A change the organisation's rules forbid; the message says why."""


#: Threads that hash passwords in a bulk import. hashlib's pbkdf2 and scrypt release the GIL,
#: so two threads hash twice as fast on two cores; more would only compete with requests.
HASH_WORKERS = 2
#: Passwords per task handed to a hashing thread (few tasks, little overhead per password).
HASH_CHUNK = 250
#: After a bulk insert of at least this many people, PostgreSQL's statistics on ``person``
#: are refreshed at once (see create_people).
ANALYZE_AFTER = 1000


def generate_initial_password(length: int = 10) -> str:
    """``length`` characters drawn uniformly and independently from PASSWORD_ALPHABET
    (55**10: about 58 bits). One number drawn below 55**length and written in base 55 is
    exactly that, and takes one read of the system's random source (rarely two) instead
    of one per character: 5× faster, which counts when an import makes 10,000."""
    base = len(PASSWORD_ALPHABET)
    number = secrets.randbelow(base**length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, base)
        chars.append(PASSWORD_ALPHABET[digit])
    return "".join(chars)


def hash_passwords(passwords: Sequence[tuple[str, bool]]) -> list[str]:
    """``hash_password(password, initial=initial)`` for each (password, initial), in order,
    in HASH_WORKERS threads: what a loop would give (the same methods, fresh salts), in
    about half the time on two cores."""
    items = list(passwords)

    def hash_chunk(chunk: list[tuple[str, bool]]) -> list[str]:
        return [hash_password(password, initial=initial) for password, initial in chunk]

    if len(items) <= HASH_CHUNK:
        return hash_chunk(items)
    chunks = [items[i:i + HASH_CHUNK] for i in range(0, len(items), HASH_CHUNK)]
    with ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="hash") as pool:
        return [digest for hashed in pool.map(hash_chunk, chunks) for digest in hashed]


def create_unit(parent: Unit | None, name: str, kind: UnitKind, sort_order: int = 0) -> Unit:
    unit = Unit(parent=parent, name=name.strip(), kind=kind, sort_order=sort_order)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def update_unit(unit: Unit, *, name: str, kind: UnitKind, sort_order: int) -> None:
    unit.name, unit.kind, unit.sort_order = name.strip(), kind, sort_order


def move_unit(unit: Unit, new_parent: Unit | None) -> None:
    """Put ``unit`` and its subtree under ``new_parent``, rewriting the subtree's paths in
    one UPDATE."""
    if new_parent is not None and path_in_subtree(new_parent.path, unit.path):
        raise OrgError(_l("A unit cannot be moved under itself or one of its own sub-units."))
    old_prefix = unit.path
    new_prefix = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    if new_prefix == old_prefix:
        return
    unit.parent = new_parent
    db.session.flush()
    db.session.execute(
        sa.update(Unit)
        .where(in_subtree(Unit.path, old_prefix))
        .values(path=new_prefix + sa.func.substr(Unit.path, len(old_prefix) + 1))
        .execution_options(synchronize_session="fetch")
    )


def count_active_people(unit: Unit) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Person.id)).join(Person.unit).where(
            in_subtree(Unit.path, unit.path), Person.is_active
        )
    ) or 0


def set_unit_active(unit: Unit, active: bool) -> None:
    """Deactivate only an empty subtree (no active people, no active sub-units): nothing
    is silently hidden. Units are never deleted once they have held anyone."""
    if not active:
        people = count_active_people(unit)
        if people:
            raise OrgError(_l("This unit and its sub-units still have %(n)d active people. "
                              "Move or deactivate them first.", n=people))
        if any(child.is_active for child in unit.children):
            raise OrgError(_l("Deactivate its sub-units first."))
    elif unit.parent is not None and not unit.parent.is_active:
        raise OrgError(_l("Reactivate the parent unit first."))
    unit.is_active = active


def delete_unit(unit: Unit) -> None:
    """Delete a unit that never held anyone and has no sub-units."""
    has_people = db.session.scalar(sa.select(sa.exists().where(Person.unit_id == unit.id)))
    if unit.children or has_people:
        raise OrgError(_l("Only an empty unit with no sub-units and no history can be deleted; "
                          "deactivate it instead."))
    db.session.delete(unit)


def create_person(*, account: str, name: str, unit: Unit, political_status: PoliticalStatus,
                  phone: str | None = None, role: Role = Role.TEACHER,
                  password: str | None = None) -> tuple[Person, str | None]:
    """Add a person. Without ``password`` a random initial one is made and returned, to be
    shown once; either way the person must change it at first login. ``create_people``
    does the same for many people at once."""
    person = Person(account=account.strip(), name=name.strip(), unit=unit, phone=phone or None,
                    political_status=political_status, role=role)
    initial = password or generate_initial_password()
    person.set_password(initial, initial=password is None)
    person.must_change_password = True
    db.session.add(person)
    return person, (None if password else initial)


@dataclass
class NewPerson:
    """One person for ``create_people``: create_person's arguments, with the unit by id."""

    account: str
    name: str
    unit_id: int
    political_status: PoliticalStatus
    phone: str | None = None
    role: Role = Role.TEACHER
    password: str | None = None


def create_people(people: Sequence[NewPerson]) -> list[str | None]:
    """``create_person`` for many people at once (a roster import): the passwords hashed in
    a few threads, the rows written by one bulk INSERT instead of one ORM object each.
    Returns, in order, each person's generated initial password, or None where a password
    was given. The people are not loaded into the session.

    Every column is set here as create_person's Person would have it (tests compare the
    two), so nothing depends on which defaults a bulk INSERT applies."""
    if not people:
        return []
    initials = [None if p.password else generate_initial_password() for p in people]
    hashes = hash_passwords([(p.password or initial, p.password is None)
                             for p, initial in zip(people, initials, strict=True)])
    now = utcnow()
    db.session.execute(sa.insert(Person), [
        {"account": p.account.strip(), "name": p.name.strip(), "phone": p.phone or None,
         "unit_id": p.unit_id, "political_status": p.political_status, "role": p.role,
         "is_active": True, "password_hash": password_hash, "must_change_password": True,
         "session_version": 1, "created_at": now, "last_login_at": None}
        for p, password_hash in zip(people, hashes, strict=True)])
    if len(people) >= ANALYZE_AFTER and db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL still has the statistics from before this load (none at all for a new
        # table) until autovacuum gets to it. Meanwhile the roster's account lookup, which
        # psycopg prepares after five runs, was switched by the plan cache to a generic plan
        # that tests every row against 500 parameters one by one: a re-import's plan took
        # 4 s instead of 0.6 s. ANALYZE brings the statistics up to date now, which also
        # makes every cached plan on person be planned again. It runs in the import's
        # transaction, its lock only conflicts with VACUUM, ANALYZE and DDL, and it takes
        # ~60 ms for 10,000 rows (a database user that does not own the table only gets a
        # warning).
        db.session.execute(sa.text("ANALYZE person"))
    return initials


def set_role(actor: Person, person: Person, role: Role, managed_units: list[Unit]) -> None:
    """Change a role and the units a secretary manages, with an audit entry. Only an
    administrator of the whole tree may appoint one: anyone else must name the units,
    each within their own scope (the caller loads them through the scope helper)."""
    if role is not Role.TEACHER and not managed_units and scope_paths(actor) is not None:
        raise OrgError(_l("Choose the units this person manages. Only a bureau "
                          "administrator can appoint an administrator of the whole tree."))
    if (role is not Role.TEACHER and scope_paths(actor) is not None
            and not rights_below(actor, role, role_scope_paths(role, managed_units))):
        # A peer could no longer be managed by whoever appointed them, nor by their peers.
        raise OrgError(_l("You can only give rights narrower than your own: a secretary of "
                          "units you manage, or an administrator of units below yours."))
    before = (person.role.value, sorted(u.id for u in person.managed_units))
    person.role = role
    person.managed_units = managed_units if role is not Role.TEACHER else []
    after = (person.role.value, sorted(u.id for u in person.managed_units))
    if before != after:
        audit.record(actor, "person.role", person, before={"role": before[0], "units": before[1]},
                     after={"role": after[0], "units": after[1]})


def move_person(actor: Person, person: Person, unit: Unit) -> None:
    if person.unit_id != unit.id:
        audit.record(actor, "person.move", person, before=person.unit_id, after=unit.id)
        person.unit = unit


def set_person_active(actor: Person, person: Person, active: bool) -> None:
    if actor.id == person.id and not active:
        raise OrgError(_l("You cannot deactivate your own account."))
    if person.is_active != active:
        person.is_active = active
        if not active:
            person.session_version += 1  # sign them out everywhere
        audit.record(actor, "person.activate" if active else "person.deactivate", person)


def reset_password(actor: Person, person: Person) -> str:
    """Give ``person`` a new random initial password (returned, to be shown once)."""
    password = generate_initial_password()
    person.set_password(password, initial=True)
    audit.record(actor, "person.password_reset", person)
    return password
