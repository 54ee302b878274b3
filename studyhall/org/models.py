"""The organisation: units in a tree, and the people in them (a person is also a login)."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import PATH_TYPE, enum_column, utcnow

#: A mainland mobile number, or a landline with its area code (0571-88888888, ext. allowed).
PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$"


class UnitKind(enum.Enum):
    COMMITTEE = "committee"
    GENERAL_BRANCH = "general_branch"
    SCHOOL = "school"
    BRANCH = "branch"
    GROUP = "group"

    @property
    def label(self) -> str:
        return str(UNIT_KIND_LABELS[self])


UNIT_KIND_LABELS = {
    UnitKind.COMMITTEE: _l("Party committee"),
    UnitKind.GENERAL_BRANCH: _l("General branch"),
    UnitKind.SCHOOL: _l("School"),
    UnitKind.BRANCH: _l("Party branch"),
    UnitKind.GROUP: _l("Party group"),
}


class PoliticalGroup(enum.Enum):
    """How work reports count 政治面貌."""

    PARTY_MEMBER = "party_member"
    LEAGUE_MEMBER = "league_member"
    DEMOCRATIC_PARTY = "democratic_party"
    NON_PARTISAN = "non_partisan"
    MASSES = "masses"

    @property
    def label(self) -> str:
        return str(POLITICAL_GROUP_LABELS[self])


POLITICAL_GROUP_LABELS = {
    PoliticalGroup.PARTY_MEMBER: _l("Party members"),
    PoliticalGroup.LEAGUE_MEMBER: _l("League members"),
    PoliticalGroup.DEMOCRATIC_PARTY: _l("Democratic parties"),
    PoliticalGroup.NON_PARTISAN: _l("Non-partisans"),
    PoliticalGroup.MASSES: _l("The masses"),
}


class PoliticalStatus(enum.Enum):
    """政治面貌, by its GB/T 4762 code. Labels are the standard's Chinese names in every
    language: they are terms of record, and rosters and reports use exactly these."""

    CPC_MEMBER = "01"
    CPC_PROBATIONARY = "02"
    CYL_MEMBER = "03"
    RCCK = "04"
    CDL = "05"
    CNDCA = "06"
    CAPD = "07"
    CPWDP = "08"
    CZGP = "09"
    JIUSAN = "10"
    TDSGL = "11"
    NON_PARTISAN = "12"
    MASSES = "13"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self][0]

    @property
    def group(self) -> PoliticalGroup:
        code = int(self.value)
        if code <= 2:
            return PoliticalGroup.PARTY_MEMBER
        if code == 3:
            return PoliticalGroup.LEAGUE_MEMBER
        if code <= 11:
            return PoliticalGroup.DEMOCRATIC_PARTY
        if code == 12:
            return PoliticalGroup.NON_PARTISAN
        return PoliticalGroup.MASSES

    @classmethod
    def parse(cls, text: str) -> PoliticalStatus | None:
        """Read a roster's 政治面貌 cell: the GB/T 4762 name, a form the usual 13-entry HR
        dictionaries use (民革党员, 普通公民, 无党派民主人士…), the code, or the code and
        the name together as HR systems export them ("01 中共党员", "中共党员(01)"), if
        they agree. Full-width digits and brackets are read as half-width."""
        key = "".join(unicodedata.normalize("NFKC", str(text)).split())
        if key.isdigit():
            key = key.zfill(2)
        if key in _STATUS_LOOKUP:
            return _STATUS_LOOKUP[key]
        both = _CODE_AND_NAME.fullmatch(key)
        if both is None:
            return None
        code = both["code"] or both["code2"]
        name = both["name"] or both["name2"]
        status = _STATUS_LOOKUP.get(name)
        return status if status is not None and status.value == code.zfill(2) else None


# Full label first, then the forms rosters use. "民主党派" alone does not say which party,
# so it is not accepted: the importer is asked to name the party.
STATUS_LABELS: dict[PoliticalStatus, tuple[str, ...]] = {
    PoliticalStatus.CPC_MEMBER: ("中国共产党党员", "中共党员", "党员", "共产党员"),
    PoliticalStatus.CPC_PROBATIONARY: ("中国共产党预备党员", "中共预备党员", "预备党员"),
    PoliticalStatus.CYL_MEMBER: ("中国共产主义青年团团员", "共青团员", "团员"),
    PoliticalStatus.RCCK: ("中国国民党革命委员会会员", "民革会员", "民革党员", "民革"),
    PoliticalStatus.CDL: ("中国民主同盟盟员", "民盟盟员", "民盟"),
    PoliticalStatus.CNDCA: ("中国民主建国会会员", "民建会员", "民建"),
    PoliticalStatus.CAPD: ("中国民主促进会会员", "民进会员", "民进"),
    PoliticalStatus.CPWDP: ("中国农工民主党党员", "农工党党员", "农工党员", "农工党"),
    PoliticalStatus.CZGP: ("中国致公党党员", "致公党党员", "致公党员", "致公党"),
    PoliticalStatus.JIUSAN: ("九三学社社员", "九三学社"),
    PoliticalStatus.TDSGL: ("台湾民主自治同盟盟员", "台盟盟员", "台盟"),
    PoliticalStatus.NON_PARTISAN: ("无党派人士", "无党派民主人士", "无党派"),
    PoliticalStatus.MASSES: ("群众", "普通公民"),
}
_CODE_AND_NAME = re.compile(r"(?P<code>\d{1,2})[-_.、:]?(?P<name>\D+)|(?P<name2>\D+?)"
                            r"[(\[](?P<code2>\d{1,2})[)\]]")
_STATUS_LOOKUP = {
    **{label: status for status, labels in STATUS_LABELS.items() for label in labels},
    **{status.value: status for status in PoliticalStatus},
}


class Role(enum.Enum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    TEACHER = "teacher"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SECRETARY: _l("Branch secretary"),
    Role.TEACHER: _l("Teacher"),
}

unit_manager = sa.Table(
    "unit_manager",
    db.metadata,
    sa.Column("person_id", sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Unit(db.Model):
    """A node of the organisation tree. ``path`` is the materialised path of ids
    ("/1/4/9/"), so a subtree is one indexed prefix query however deep the tree is."""

    __table_args__ = (sa.UniqueConstraint("parent_id", "name", name="uq_unit_parent_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 20))
    path: Mapped[str] = mapped_column(PATH_TYPE, index=True, default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(
        back_populates="parent", order_by="(Unit.sort_order, Unit.name)"
    )

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/")[:-1]]

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name!r} {self.path}>"


#: How a generated initial password is hashed: random, about 58 bits of entropy, and to be
#: changed at first login, so a light hash is enough (Person.set_password).
INITIAL_PASSWORD_METHOD = "pbkdf2:sha256:1000"
#: How a password a person chose is hashed: werkzeug's full-strength default.
CHOSEN_PASSWORD_METHOD = "scrypt"


def hash_password(password: str, *, initial: bool = False) -> str:
    """The stored hash of ``password``: ``initial`` for a random one the system generated,
    otherwise one a person chose (including a roster's 初始密码 column). The one place that
    picks the method, for Person.set_password and bulk imports alike. Thread-safe: hashlib
    releases the GIL while it hashes, so imports hash many at once in a few threads."""
    method = INITIAL_PASSWORD_METHOD if initial else CHOSEN_PASSWORD_METHOD
    return generate_password_hash(password, method=method)


class Person(UserMixin, db.Model):
    """A member of staff, and their login."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 账号 / 工号: always text (rosters hold 工号 such as "00000001").
    account: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(50), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    political_status: Mapped[PoliticalStatus] = mapped_column(
        enum_column(PoliticalStatus, 2), default=PoliticalStatus.MASSES, index=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, 10), default=Role.TEACHER)
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    must_change_password: Mapped[bool] = mapped_column(default=True)
    #: Bumped when the password changes or the account is deactivated, which signs out
    #: every session that was opened before.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()
    managed_units: Mapped[list[Unit]] = relationship(
        secondary=unit_manager, order_by="(Unit.sort_order, Unit.name)")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str, *, initial: bool = False) -> None:
        """Hash and store a password. An ``initial`` password is a random one made by the
        system, with about 58 bits of entropy, that must be changed at first login: a
        light hash is enough for it and keeps a 10,000-row import within seconds. Every
        password a person chooses gets the full-strength default hash (see
        ``hash_password``)."""
        self.password_hash = hash_password(password, initial=initial)
        self.must_change_password = initial
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and secretaries: people who manage others."""
        return self.role in (Role.ADMIN, Role.SECRETARY)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.account!r}>"
