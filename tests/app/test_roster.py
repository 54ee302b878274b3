"""Roster import: every row's fate before anything is written, all or nothing."""

import io
import re
from collections import Counter

import pytest
import sqlalchemy as sa
import xlsxwriter
from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.security import check_password_hash
from werkzeug.test import encode_multipart

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org import operations, roster
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.uploads import PendingUpload
from tests.factories import PASSWORD

HEADER = ["序号", "工号", "姓名", "性别", "手机号码", "所属支部", "政治面貌", "备注"]


def xlsx(rows, title="示例市实验小学教职工花名册") -> bytes:
    """A workbook as staff offices write them: a merged title row, the header, blank rows,
    numbers where Excel keeps numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, title)
    sheet.write_row(1, 0, HEADER)
    r = 2
    for row in rows:
        if row is None:
            r += 1  # a blank row
            continue
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value:
                sheet.write_string(r, c, value)
        r += 1
    book.close()
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture()
def rows(org):
    return [
        [1, "00000101", "孙丽", "女", "13900000001", "甲校第一支部", "中共党员", ""],
        [2, "00000102", "周强", "男", "", "甲校党总支/甲校第一支部", "共青团员", ""],
        [3, "00000103", "吴敏", "女", "", "教育局党委/乙校党总支/乙校第一支部", "群众", ""],
    ]


def plan(org, data, filename="roster.xlsx", viewer=None, **kw):
    """Plan as an English-speaking importer would see it."""
    with current_app.test_request_context(headers={"Cookie": "lang=en"}):
        return roster.plan_import(viewer or org.admin, data, filename, **kw)


def test_xlsx_with_title_row_blank_rows_and_numbers(org, rows):
    rows.insert(1, None)
    rows.append([4, 104, "郑华", "男", 13900000004.0, "乙校第一支部", "预备党员", ""])
    rows.extend([None, None])
    result = plan(org, xlsx(rows))
    assert result.ok, result.issues
    assert [r.fate for r in result.rows] == ["new"] * 4
    assert result.rows[0].row == 3 and result.rows[1].row == 5  # Excel's row numbers
    assert result.rows[3].account == "104"
    assert result.rows[3].values["phone"] == "13900000004"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_usual_encoding_is_read_without_mojibake(org, rows, encoding):
    result = plan(org, csv_bytes(rows, encoding), "花名册.csv")
    assert result.ok, result.issues
    assert [r.name for r in result.rows] == ["孙丽", "周强", "吴敏"]


def test_a_legacy_xls_roster_is_read(org):
    from tests.fixtures.hostile_files import FIXTURES

    result = plan(org, (FIXTURES / "roster.xls").read_bytes(), "花名册.xls")
    assert result.ok, result.issues
    assert [(r.account, r.name) for r in result.rows] == [("00000101", "孙丽"),
                                                          ("00000102", "周强")]


def test_headers_are_matched_by_their_usual_names(org):
    data = "用户名,名字,手机,单位,政治面貌,备注\nzs01,张三,,甲校第一支部,党员,x\n".encode()
    result = plan(org, data, "a.csv")
    assert result.ok and result.rows[0].values["status"] is PoliticalStatus.CPC_MEMBER


def test_preview_then_confirm_writes_in_one_go_and_shows_passwords_once(client, org, rows,
                                                                        login):
    login(org.secretary)
    rows = rows[:2]
    response = client.post("/manage/roster", data={
        "file": (io.BytesIO(xlsx(rows)), "roster.xlsx")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "孙丽" in page and "周强" in page
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 4  # nothing written yet
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    page = client.post("/manage/roster/confirm", data={"token": token}).get_data(as_text=True)
    assert "2 new, 0 updated, 0 unchanged." in page
    passwords = dict(re.findall(r"<td>(\d{8})</td><td>[^<]+</td><td><span class=\"secret\">"
                                r"([^<]+)<", page))
    person = db.session.scalar(sa.select(Person).where(Person.account == "00000101"))
    assert person.check_password(passwords["00000101"]) and person.must_change_password
    assert passwords["00000101"] not in person.password_hash
    # The same token cannot be used twice.
    response = client.post("/manage/roster/confirm", data={"token": token})
    assert response.status_code == 302


def test_reimporting_the_same_file_changes_nothing(org, rows):
    data = xlsx(rows)
    roster.apply_plan(org.admin, plan(org, data))
    db.session.commit()
    again = plan(org, data)
    assert [r.fate for r in again.rows] == ["unchanged"] * 3


def test_changes_are_listed_per_row(org, rows):
    roster.apply_plan(org.admin, plan(org, xlsx(rows)))
    db.session.commit()
    rows[0][2], rows[0][6], rows[0][5] = "孙丽丽", "预备党员", "乙校第一支部"
    result = plan(org, xlsx(rows))
    first = result.rows[0]
    assert first.fate == "updated" and len(first.changes) == 3
    roster.apply_plan(org.admin, result)
    db.session.commit()
    person = db.session.scalar(sa.select(Person).where(Person.account == "00000101"))
    assert (person.name, person.political_status, person.unit_id) == (
        "孙丽丽", PoliticalStatus.CPC_PROBATIONARY, org.branch_b.id)


@pytest.mark.parametrize("change, column, reason", [
    ((1, "00000101"), "Account", "already appears in row 3"),
    ((5, "不存在的支部"), "Unit", "No such unit in your scope"),
    ((6, "民主党派"), "Political status", "Unknown political status"),
    ((6, ""), "Political status", "The political status is empty."),
    ((4, "12345"), "Mobile", "Not a phone number"),
    ((2, ""), "Name", "The name is empty."),
])
def test_bad_rows_are_reported_with_row_column_value_and_reason(org, rows, change, column,
                                                                 reason):
    col, value = change
    rows[1][col] = value
    result = plan(org, xlsx(rows))
    assert not result.ok
    issue = result.issues[0]
    assert (issue.row, issue.column, issue.value) == (4, column, value)
    assert reason in issue.reason
    assert [r.fate for r in result.rows] == ["new", "error", "new"]
    with pytest.raises(ValueError):
        roster.apply_plan(org.admin, result)


def test_a_secretary_cannot_place_people_outside_their_subtree(org, rows):
    result = plan(org, xlsx(rows), viewer=org.secretary)
    assert [r.fate for r in result.rows] == ["new", "new", "error"]


def test_a_secretary_cannot_take_over_an_account_outside_their_subtree(org):
    data = "工号,姓名,单位,政治面貌\nt2,冒名,甲校第一支部,群众\n".encode()
    result = plan(org, data, "a.csv", viewer=org.secretary)
    assert "outside your scope" in result.issues[0].reason


def test_ambiguous_unit_names_ask_for_the_full_path(org, make_unit):
    make_unit("第二支部", org.gen_a)
    make_unit("第二支部", org.gen_b)
    data = "工号,姓名,单位,政治面貌\nx1,甲,第二支部,群众\nx2,乙,甲校党总支/第二支部,群众\n".encode()
    result = plan(org, data, "a.csv")
    assert "Several units" in result.rows[0].issues[0].reason
    assert result.rows[1].issues == []


def test_create_units_builds_missing_units_along_a_path(org):
    data = ("工号,姓名,单位,政治面貌\n"
            "n1,甲,教育局党委/丙校党总支/丙校第一支部,群众\n"
            "n2,乙,教育局党委/丙校党总支/丙校第二支部,中共党员\n").encode()
    assert not plan(org, data, "a.csv").ok
    result = plan(org, data, "a.csv", create_units=True)
    assert result.ok and result.new_units == [
        ("教育局党委", "丙校党总支"), ("教育局党委", "丙校党总支", "丙校第一支部"),
        ("教育局党委", "丙校党总支", "丙校第二支部")]
    roster.apply_plan(org.admin, result)
    db.session.commit()
    general = db.session.scalar(sa.select(Unit).where(Unit.name == "丙校党总支"))
    assert general.kind.value == "general_branch" and len(general.children) == 2
    assert general.parent_id == org.top.id


def test_secretaries_do_not_get_the_create_units_option(client, org, login):
    login(org.secretary)
    assert "create_units" not in client.get("/manage/roster").get_data(as_text=True)


@pytest.mark.parametrize("data, filename, message", [
    (b"", "a.xlsx", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png", "Only .xlsx, .xls and .csv"),
    (b"not a zip at all", "a.xlsx", "is not one"),
    (b"PK\x03\x04garbage", "a.xlsx", "could not be read"),
    (b"\xff\xfe\x00\x00\x81\x30", "a.csv", "not text in UTF-8 or GBK"),
    ("序号,性别\n1,男\n".encode(), "a.csv", "No header row found"),
    ("工号,姓名,单位,政治面貌\n\n,,,\n".encode(), "a.csv", "no people under it"),
])
def test_bad_files_get_a_clear_message_and_change_nothing(org, data, filename, message):
    result = plan(org, data, filename)
    assert not result.ok and message in result.file_error


def test_bad_file_on_the_page_says_nothing_was_saved(client, org, login):
    login(org.admin)
    response = client.post("/manage/roster", data={
        "file": (io.BytesIO(b"hello"), "roster.docx")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "Only .xlsx, .xls and .csv" in page and "Nothing has been saved." in page


def test_files_over_the_limit_are_refused(client, org, login, app):
    login(org.admin)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/manage/roster", data={
            "file": (io.BytesIO(b"x" * 2000), "big.csv")}, content_type="multipart/form-data")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    assert response.status_code == 413
    assert "larger than the upload limit" in response.get_data(as_text=True)


def test_cli_import_is_all_or_nothing(app, org, rows, tmp_path):
    runner = app.test_cli_runner()
    rows[2][6] = "火星人"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx(rows))
    result = runner.invoke(args=["import-roster", str(bad)])
    assert result.exit_code == 1
    assert "第5行 政治面貌 «火星人»：无法识别的政治面貌" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 4

    rows[2][6] = "群众"
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx(rows))
    result = runner.invoke(args=["import-roster", str(good), "--dry-run"])
    assert result.exit_code == 0 and "新增 3" in result.output and "试运行" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 4

    out = tmp_path / "passwords.csv"
    result = runner.invoke(args=["import-roster", str(good), "--passwords-out", str(out)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 7
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "账号,姓名,初始密码" and len(lines) == 4

    result = runner.invoke(args=["import-roster", str(good)])
    assert "新增 0，更新 0，无变化 3" in result.output


def test_template_download_imports_against_the_demo_tree(app, client, login):
    from studyhall.demo import seed_demo

    seed_demo()
    db.session.commit()
    admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
    data = client.get("/manage/roster/template.xlsx")
    assert data.status_code == 302  # login first
    client.post("/login", data={"account": "admin", "password": "studyhall-demo"})
    data = client.get("/manage/roster/template.xlsx").data
    result = roster.plan_import(admin, data, "roster-template.xlsx")
    assert result.ok, result.issues
    assert [r.account for r in result.rows] == ["00000001", "00000002"]


def test_a_bulk_import_makes_people_as_create_person_does(org, rows):
    """Bulk-inserted people have every column create_person would give them: they can log
    in with the password shown once, must change it, and created_at etc. are set."""
    before = utcnow()
    passwords = roster.apply_plan(org.admin, plan(org, xlsx(rows)))
    db.session.commit()
    assert [account for account, _name, _password in passwords] == [
        "00000101", "00000102", "00000103"]
    assert len({password for _a, _n, password in passwords}) == 3
    reference, _initial = operations.create_person(
        account="ref1", name="参照", unit=org.branch_a,
        political_status=PoliticalStatus.CPC_MEMBER, phone="13900000001")
    db.session.commit()
    people = {p.account: p for p in db.session.scalars(
        sa.select(Person).where(Person.account.in_(["00000101", "00000102", "00000103"])))}
    sun = people["00000101"]
    skip = {"id", "account", "name", "password_hash", "created_at"}
    for column in Person.__table__.columns:
        if column.key not in skip:
            assert getattr(sun, column.key) == getattr(reference, column.key), column.key
    assert (sun.unit_id, sun.phone, sun.political_status) == (
        org.branch_a.id, "13900000001", PoliticalStatus.CPC_MEMBER)
    assert people["00000102"].phone is None and people["00000103"].unit_id == org.branch_b.id
    for person in people.values():
        assert person.created_at is not None and before <= person.created_at
        assert person.is_active and person.must_change_password
        assert person.session_version == 1 and person.last_login_at is None
        assert person.role.value == "teacher"
        assert person.password_hash.startswith("pbkdf2:sha256:1000$")


def test_people_of_a_bulk_import_log_in_with_the_shown_password_and_must_change_it(
        app, org, rows, client):
    passwords = roster.apply_plan(org.admin, plan(org, xlsx(rows)))
    db.session.commit()
    account, _name, password = passwords[1]
    assert client.post("/login", data={"account": account, "password": "wrong-password"}
                       ).status_code == 200
    response = client.post("/login", data={"account": account, "password": password})
    assert response.status_code == 302 and response.location == "/account/password"
    assert client.get("/").location == "/account/password"
    response = client.post("/account/password", data={
        "current_password": password, "new_password": "my-own-pass-7",
        "confirm": "my-own-pass-7"})
    assert response.status_code == 302 and client.get("/").status_code == 200
    person = db.session.scalar(sa.select(Person).where(Person.account == account))
    db.session.refresh(person)
    assert not person.must_change_password and person.password_hash.startswith("scrypt:")


def test_a_password_column_is_hashed_as_a_chosen_password_and_not_shown(app, org, client):
    data = ("工号,姓名,单位,政治面貌,初始密码\n"
            "p1,甲,甲校第一支部,群众,Their-own-1\n"
            "p2,乙,甲校第一支部,群众,\n").encode()
    passwords = roster.apply_plan(org.admin, plan(org, data, "a.csv"))
    db.session.commit()
    assert [account for account, _name, _password in passwords] == ["p2"]
    chosen = db.session.scalar(sa.select(Person).where(Person.account == "p1"))
    assert chosen.password_hash.startswith("scrypt:") and chosen.must_change_password
    assert "Their-own-1" not in chosen.password_hash
    response = client.post("/login", data={"account": "p1", "password": "Their-own-1"})
    assert response.location == "/account/password"


def test_passwords_are_hashed_in_threads_in_order(monkeypatch):
    monkeypatch.setattr(operations, "HASH_CHUNK", 3)
    passwords = [(operations.generate_initial_password(), True) for _ in range(10)]
    passwords.insert(4, ("a-chosen-password", False))
    hashes = operations.hash_passwords(passwords)
    assert len(hashes) == 11
    for (password, initial), digest in zip(passwords, hashes, strict=True):
        assert digest.startswith("pbkdf2:sha256:1000$" if initial else "scrypt:")
        assert check_password_hash(digest, password)


def test_generated_passwords_use_the_readable_alphabet_uniformly():
    passwords = [operations.generate_initial_password() for _ in range(2000)]
    assert len(set(passwords)) == 2000
    assert all(len(p) == 10 and set(p) <= set(operations.PASSWORD_ALPHABET) for p in passwords)
    counts = Counter("".join(passwords))
    assert set(counts) == set(operations.PASSWORD_ALPHABET)
    # 20,000 characters over 55 symbols: ~364 each; a fair draw stays well inside this.
    assert min(counts.values()) > 250 and max(counts.values()) < 480
    # Every position is drawn too (the last digit of a base-55 number is not special).
    assert {p[-1] for p in passwords} == set(operations.PASSWORD_ALPHABET)


def test_a_big_import_refreshes_postgresqls_statistics(app, org, rows, monkeypatch):
    """After a bulk load, PostgreSQL's planner must not keep the statistics of the empty
    table (a re-import's account lookup ran on a stale plan for seconds)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(operations, "ANALYZE_AFTER", 3)
    roster.apply_plan(org.admin, plan(org, xlsx(rows)))
    reltuples = db.session.scalar(sa.text(
        "SELECT reltuples FROM pg_class WHERE oid = 'person'::regclass"))
    db.session.commit()
    assert reltuples == db.session.scalar(sa.select(sa.func.count(Person.id))) == 7


def test_an_import_cannot_change_someone_with_wider_rights(org, make_person):
    from studyhall.org.models import Role

    make_person("boss", unit=org.branch_a, role=Role.ADMIN, name="局长")
    data = "工号,姓名,单位,政治面貌\nboss,改名,甲校第一支部,群众\n".encode()
    result = plan(org, data, "a.csv", viewer=org.secretary)
    assert "wider rights" in result.issues[0].reason
    # The same person listed as they are changes nothing, so the row is simply unchanged
    # (an exported roster that names the importer or a peer imports back).
    same = "工号,姓名,单位,政治面貌\nboss,局长,甲校第一支部,中共党员\n".encode()
    assert plan(org, same, "a.csv", viewer=org.secretary).ok


def test_moves_and_reactivations_by_import_are_audited(org):
    from studyhall.audit import AuditEntry

    org.teacher.is_active = False
    db.session.commit()
    data = "工号,姓名,单位,政治面貌\nt1,李老师,乙校第一支部,中共党员\n".encode()
    roster.apply_plan(org.admin, plan(org, data, "a.csv"))
    db.session.commit()
    actions = set(db.session.scalars(sa.select(AuditEntry.action)).all())
    assert {"person.move", "person.activate"} <= actions


# --- limits and the paginated preview (issue 7, items 3 and 4) ---------------------------

def bad_rows_csv(count: int) -> bytes:
    """A roster whose every row is wrong (unknown 政治面貌), as a staff office might send."""
    lines = ["工号,姓名,单位,政治面貌"] + [f"{9000000 + n},教师{n},甲校第一支部,火星人"
                                        for n in range(count)]
    return "\n".join(lines).encode()


def upload_roster(client, data: bytes, filename: str = "roster.csv"):
    # Encoded here in memory: the test client would spool a body over 500 KB to a
    # temporary file that it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    return client.post("/manage/roster", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_a_file_over_the_row_limit_is_refused_with_the_cli_offered(client, org, login, app):
    login(org.admin)
    response = upload_roster(client, bad_rows_csv(50_000))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"50,001 rows; at most {app.config['MAX_ROSTER_ROWS']:,} can be imported here" in page
    assert "flask --app studyhall import-roster FILE" in page
    assert len(page) < 20_000  # counts and a message, never the rows
    assert db.session.scalar(sa.select(sa.func.count(PendingUpload.id))) == 0


def test_the_preview_of_thousands_of_bad_rows_stays_small_and_pages(client, org, login):
    login(org.admin)
    small = upload_roster(client, bad_rows_csv(300)).get_data(as_text=True)
    page = upload_roster(client, bad_rows_csv(3_000)).get_data(as_text=True)
    assert "3000 problems found" in page
    assert page.count("火星人") == 50  # one page of problems
    assert page.count('class="fate-error"') == 100  # one page of rows
    assert len(page) < 1.2 * len(small) and len(page) < 150_000
    token = db.session.scalar(sa.select(PendingUpload.token))
    links = re.findall(r'href="(/manage/roster/preview/[^"#]+)#problems"', page)
    assert f"/manage/roster/preview/{token}?problems=2" in links
    second = client.get(f"/manage/roster/preview/{token}?problems=2&page=3")
    text = second.get_data(as_text=True)
    assert second.status_code == 200
    # Problems 51–100 are rows 52–101 of the file; the rows page 3 starts at row 202.
    assert ">52</td>" in text and ">101</td>" in text and ">202</td>" in text
    assert "51–100 of 3000" in text and "201–300 of 3000" in text
    assert "name=\"token\"" not in text  # no confirmation for a file with errors


def test_the_preview_pages_are_the_uploaders_own(app, client, org, login, rows):
    login(org.admin)
    upload_roster(client, xlsx(rows), "roster.xlsx")
    token = db.session.scalar(sa.select(PendingUpload.token))
    assert client.get(f"/manage/roster/preview/{token}").status_code == 200
    other = app.test_client()
    other.post("/login", data={"account": org.secretary.account, "password": PASSWORD})
    response = other.get(f"/manage/roster/preview/{token}")
    assert response.status_code == 302 and response.location.endswith("/manage/roster")


def test_a_hostile_workbook_on_the_page_gets_a_message_not_a_500(client, org, login):
    from tests.fixtures.hostile_files import corner_cells, shared_string

    login(org.admin)
    page = upload_roster(client, corner_cells(), "roster.xlsx").get_data(as_text=True)
    assert "The file has 1,048,576 rows; at most" in page
    assert "Nothing has been saved." in page
    page = upload_roster(client, shared_string(), "roster.xlsx").get_data(as_text=True)
    assert "xl/sharedStrings.xml" in page and "compressed more than 100 times" in page
    assert len(page) < 20_000
