"""The question-bank pages and commands."""

import io
import re

import pytest
import sqlalchemy as sa

import question_bank as qb
from config import TestingConfig
from studyhall.bank import mapping, operations
from studyhall.bank.importing import apply_question_import, plan_question_import
from studyhall.bank.models import Question, QuestionCategory
from studyhall.bank.queries import get_category_names
from studyhall.extensions import db

BANK_PAGES = ["/manage/bank/", "/manage/bank/new", "/manage/bank/categories",
              "/manage/bank/import", "/manage/bank/template.xlsx", "/manage/bank/export"]

GIFT = """// 纪律处分条例
$CATEGORY: $course$/top/党章党规/纪律处分条例

::q1:: 对党员的纪律处分种类有几种？ {
=五种
~四种
~六种
}

::q2:: 留党察看最长不超过两年。 {T}

::q3:: 下列配对题 {
=甲 -> 一
=乙 -> 二
}
"""


@pytest.fixture()
def category(app):
    top = operations.create_category(None, "党章党规")
    child = operations.create_category(top, "纪律处分条例")
    db.session.commit()
    return child


def add(category, **fields) -> Question:
    defaults = {"type": "single", "stem": "问题", "options": ("甲", "乙"), "answer": "A"}
    question = qb.Question(**{**defaults, **fields})
    row = operations.save_question(None, question, category)
    db.session.commit()
    return row


def count_questions() -> int:
    return db.session.scalar(sa.select(sa.func.count(Question.id)).where(~Question.is_deleted))


@pytest.mark.parametrize("url", BANK_PAGES)
@pytest.mark.parametrize("role", ["teacher", "secretary"])
def test_only_admins_open_the_bank(client, org, login, url, role):
    login(getattr(org, role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", BANK_PAGES)
def test_admins_open_every_bank_page(client, org, login, category, url):
    login(org.admin)
    assert client.get(url).status_code == 200


QUESTION_FORMS = {
    "single": {"options-0": "警告", "options-1": "记过", "answer_single": "A"},
    "multiple": {"options-0": "警告", "options-1": "严重警告", "options-2": "记过",
                 "answer_multiple": ["A", "B"]},
    "true_false": {"answer_true_false": "false"},
    "fill_blank": {"blanks": "一年/1年\n党员大会", "case_sensitive": "y"},
    "short_answer": {"reference": "五种：警告……", "keywords": "警告，严重警告"},
}


@pytest.mark.parametrize("kind", QUESTION_FORMS)
def test_admin_creates_each_type_and_sees_it_back_in_the_editor(client, org, login, category,
                                                               kind):
    login(org.admin)
    response = client.post("/manage/bank/new", data={
        "type": kind, "category_id": category.id, "stem": f"{kind} 题干", "points": "3",
        "difficulty": "hard", "tags": "党纪, 条例", "source": "《条例》第八条",
        "explanation": "解析", **QUESTION_FORMS[kind]})
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db.session.scalar(sa.select(Question))
    question = mapping.to_question(row, get_category_names()[row.category_id])
    assert question.type.value == kind and question.points == 3
    assert question.tags == ("党纪", "条例") and question.category == ("党章党规", "纪律处分条例")
    assert row.dedup_key == qb.normalized_key(question)
    page = client.get(f"/manage/bank/{row.id}/edit").get_data(as_text=True)
    assert f"{kind} 题干" in page and "《条例》第八条" in page


@pytest.mark.parametrize("fields, message", [
    ({"type": "single", "options-0": "甲"}, "需要2到8个选项"),
    ({"type": "single", "options-0": "甲", "options-1": "乙"}, "答案"),
    ({"type": "multiple", "options-0": "甲", "options-1": "乙", "answer_multiple": ["C"]}, "C"),
    ({"type": "fill_blank", "blanks": ""}, "答案"),
])
def test_invalid_questions_are_refused_with_the_librarys_reason(client, org, login, category,
                                                                fields, message):
    login(org.admin)
    response = client.post("/manage/bank/new", data={
        "category_id": category.id, "stem": "题干", "points": "2", "difficulty": "easy",
        **fields})
    assert response.status_code == 200
    errors = re.search(r'class="flash error" role="alert"><ul>(.*?)</ul>',
                       response.get_data(as_text=True), re.S)
    assert errors and message in errors.group(1)
    assert count_questions() == 0


def test_question_text_never_runs_as_html(client, org, login, category):
    add(category, stem="<script>alert(1)</script>", options=("<b>甲</b>", "乙"),
        explanation="<img src=x onerror=alert(1)>")
    login(org.admin)
    page = client.get("/manage/bank/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_list_filters_search_and_paginates(client, org, login, category):
    other = operations.create_category(None, "师德师风")
    db.session.commit()
    add(category, stem="留党察看最长几年", tags=("党纪",), source="《党章》")
    add(category, type="true_false", stem="记过是党纪处分", options=(), answer=False,
        difficulty="easy")
    add(other, stem="十项准则第九项", source="《十项准则》")
    for i in range(5):
        add(other, stem=f"填充题{i}")
    login(org.admin)

    def found(query: str) -> int:
        page = client.get(f"/manage/bank/?{query}").get_data(as_text=True)
        return int(re.search(r"(\d+) questions", page).group(1))

    top = category.parent
    assert found("") == 8
    assert found(f"category={top.id}") == 2  # with its subcategory
    assert found("type=true_false") == 1
    assert found("difficulty=easy") == 1
    assert found("tag=党纪") == 1
    assert found("source=准则") == 1
    assert found("q=党") == 2
    page2 = client.get("/manage/bank/?page=2").get_data(as_text=True)
    assert page2.count('class="question"') == 3  # 5 per page in tests


def test_deleting_a_question_hides_it_but_keeps_the_row(client, org, login, category):
    row = add(category)
    login(org.admin)
    client.post(f"/manage/bank/{row.id}/delete")
    db.session.expire_all()
    assert row.is_deleted and count_questions() == 0
    assert client.get(f"/manage/bank/{row.id}/edit").status_code == 404


def test_categories_are_created_renamed_and_deleted_only_when_empty(client, org, login,
                                                                    category):
    login(org.admin)
    client.post("/manage/bank/categories", data={"name": "支部工作条例", "parent_id": 0})
    created = db.session.scalar(sa.select(QuestionCategory).where(
        QuestionCategory.name == "支部工作条例"))
    assert created.path == f"/{created.id}/"
    response = client.post("/manage/bank/categories", data={"name": "支部工作条例",
                                                             "parent_id": 0})
    assert "already exists" in response.get_data(as_text=True)
    client.post(f"/manage/bank/categories/{created.id}/edit", data={"name": "支部条例"})
    db.session.expire_all()
    assert created.name == "支部条例"
    add(category)
    client.post(f"/manage/bank/categories/{category.id}/delete")
    assert db.session.get(QuestionCategory, category.id) is not None
    client.post(f"/manage/bank/categories/{created.id}/delete")
    assert db.session.get(QuestionCategory, created.id) is None


def upload(client, data: bytes, filename: str, **fields):
    return client.post("/manage/bank/import", data={
        "file": (io.BytesIO(data), filename), "format": "", "category_id": 0, **fields},
        content_type="multipart/form-data")


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_import_shows_every_question_and_problem_then_refuses_all_or_nothing(client, org,
                                                                             login):
    login(org.admin)
    response = upload(client, GIFT.encode(), "bank.gift")
    page = response.get_data(as_text=True)
    assert "对党员的纪律处分种类有几种？" in page and "留党察看最长不超过两年。" in page
    assert "matching" in page  # the unsupported construct, named with its line
    assert count_questions() == 0
    response = client.post("/manage/bank/import/confirm", data={"token": token_of(response),
                                                                "duplicates": "skip"})
    assert "Tick" in response.get_data(as_text=True)
    assert count_questions() == 0
    response = client.post("/manage/bank/import/confirm", data={
        "token": token_of(response), "duplicates": "skip", "valid_only": "y"})
    assert response.status_code == 302
    assert count_questions() == 2
    names = {n for n in get_category_names().values()}
    assert ("党章党规", "纪律处分条例") in names


def test_import_reports_duplicates_and_lets_the_importer_skip_or_update(client, org, login):
    csv_text = ("题型,题干,选项A,选项B,答案,分值,分类\n"
                "单选题,预备党员的预备期为几年？,一年,两年,A,2,党章\n")
    login(org.admin)
    client.post("/manage/bank/import/confirm", data={
        "token": token_of(upload(client, csv_text.encode(), "a.csv")), "duplicates": "skip"})
    assert count_questions() == 1
    changed = csv_text.replace(",2,党章", ",5,党章")
    response = upload(client, changed.encode("gbk"), "b.csv")
    assert "already in the bank" in response.get_data(as_text=True)
    client.post("/manage/bank/import/confirm", data={"token": token_of(response),
                                                     "duplicates": "skip"})
    assert db.session.scalar(sa.select(Question.points)) == 2
    response = upload(client, changed.encode("gbk"), "b.csv")
    client.post("/manage/bank/import/confirm", data={"token": token_of(response),
                                                     "duplicates": "update"})
    db.session.expire_all()
    assert db.session.scalar(sa.select(Question.points)) == 5 and count_questions() == 1


def test_a_question_repeated_in_the_file_is_imported_once(app):
    text = ("题型,题干,选项A,选项B,答案\n单选题,同一题,甲,乙,A\n单选题,同一题,甲,乙,A\n")
    plan = plan_question_import(text.encode(), "a.csv")
    assert [row.fate for row in plan.rows] == ["new", "repeat"]
    assert apply_question_import(plan)["created"] == 1


def test_import_into_a_chosen_category_puts_the_files_categories_under_it(app, category):
    text = "题型,题干,选项A,选项B,答案,分类\n单选题,题,甲,乙,A,子类\n"
    plan = plan_question_import(text.encode(), "a.csv", root=("党章党规", "纪律处分条例"))
    apply_question_import(plan)
    db.session.commit()
    assert ("党章党规", "纪律处分条例", "子类") in set(get_category_names().values())


def test_not_a_question_file_is_refused_plainly(client, org, login):
    login(org.admin)
    page = upload(client, b"\x00\x01\x02binary", "photo.jpg").get_data(as_text=True)
    assert "Nothing has been saved." in page and 'name="token"' not in page


def test_export_of_a_filtered_selection_round_trips(client, org, login, category):
    add(category, stem="甲题")
    add(category, type="fill_blank", stem="乙题____", options=(), answer=(("一", "1"),))
    other = operations.create_category(None, "别类")
    add(other, stem="不导出")
    login(org.admin)
    response = client.get(f"/manage/bank/export?format=xlsx&category={category.id}")
    assert response.status_code == 200
    result = qb.load_questions(response.data, "xlsx")
    assert [p.question.stem for p in result.questions] == ["甲题", "乙题____"]
    assert result.questions[1].question.answer == (("一", "1"),)


def test_export_refuses_a_format_that_cannot_hold_the_questions(client, org, login, category):
    add(category, type="fill_blank", stem="两空____和____", options=(),
        answer=(("一",), ("二",)))
    login(org.admin)
    response = client.get("/manage/bank/export?format=gift")
    assert response.status_code == 422
    assert "两空" in response.get_data(as_text=True)


def test_the_excel_template_imports_cleanly(client, org, login):
    login(org.admin)
    data = client.get("/manage/bank/template.xlsx").data
    result = qb.load_questions(data, "xlsx")
    assert result.ok and {p.question.type.value for p in result.questions} == set(
        qb.QUESTION_TYPES)


def test_cli_import_and_export(app, tmp_path):
    runner = app.test_cli_runner()
    bad = tmp_path / "bank.gift"
    bad.write_text(GIFT, encoding="utf-8")
    result = runner.invoke(args=["import-questions", str(bad)])
    assert result.exit_code == 1 and "matching" in result.output
    assert count_questions() == 0
    result = runner.invoke(args=["import-questions", str(bad), "--valid-only",
                                 "--category", "导入/GIFT"])
    assert result.exit_code == 0, result.output
    assert count_questions() == 2
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export-questions", "--out", str(out), "--category", "导入"])
    assert result.exit_code == 0, result.output
    assert len(qb.load_questions(out.read_bytes(), "csv").questions) == 2
    result = runner.invoke(args=["export-questions", "--out", str(out), "--category", "无此类"])
    assert result.exit_code == 1


def test_seed_demo_loads_the_sample_bank_once(app):
    from studyhall.demo import seed_sample_bank

    assert seed_sample_bank() >= 150
    db.session.commit()
    assert seed_sample_bank() == 0
    sources = db.session.scalars(sa.select(Question.source)).all()
    assert all(sources)


# --- hostile and large files (issue 7, items 3–5) -----------------------------------------

@pytest.mark.parametrize("data, filename, message", [
    (b"::a::q{~a ~b ~c ~d ~e ~f ~g ~h =i}", "q.gift", "选择题最多8个选项，这道题有9个"),
    (b'<?xml version="1.0" encoding="x-bogus"?><quiz/>', "q.xml", "编码“x-bogus”无法识别"),
])
def test_the_parser_inputs_that_gave_a_500_get_a_message(client, org, login, data, filename,
                                                          message):
    login(org.admin)
    response = upload(client, data, filename)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_a_parser_failure_is_a_clean_message_and_is_logged(client, org, login, monkeypatch,
                                                           caplog):
    def broken(*args, **kwargs):
        raise IndexError("a parser bug")

    monkeypatch.setattr(qb, "load_questions", broken)
    login(org.admin)
    response = upload(client, b"anything", "q.gift")
    assert response.status_code == 200
    assert "The file could not be read." in response.get_data(as_text=True)
    assert "a parser bug" in caplog.text


def test_a_hostile_workbook_on_the_import_page_gets_a_message(client, org, login):
    from tests.fixtures.hostile_files import zz200000

    login(org.admin)
    page = upload(client, zz200000(), "bank.xlsx").get_data(as_text=True)
    assert "表格有200,000行，超过上限" in page and "Nothing has been saved." in page


@pytest.mark.parametrize("data, filename, message", [
    ("题型,题干,选项A,选项B,答案\n" + "单选题,题,甲,乙,A\n" * 6, "a.csv", "表格有7行，超过上限5行"),
    ("\n\n".join(f"题{n}{{T}}" for n in range(6)), "a.gift", "文件有6道题，超过上限5道"),
])
def test_a_file_over_the_question_limit_is_refused_with_the_cli_offered(app, client, org, login,
                                                                        data, filename,
                                                                        message):
    login(org.admin)
    app.config["MAX_QUESTION_ROWS"] = 5
    try:
        page = upload(client, data.encode(), filename).get_data(as_text=True)
    finally:
        app.config["MAX_QUESTION_ROWS"] = TestingConfig.MAX_QUESTION_ROWS
    assert message in page and "flask --app studyhall import-questions FILE" in page


def test_the_import_preview_pages_its_questions_and_imports_them_all(client, org, login):
    text = "题型,题干,选项A,选项B,答案\n" + "".join(
        f"单选题,第{n:02d}题的题干,甲,乙,A\n" for n in range(1, 46))
    login(org.admin)
    page = upload(client, text.encode(), "a.csv").get_data(as_text=True)
    assert "第20题的题干" in page and "第21题的题干" not in page and "1–20 of 45" in page
    token = token_of_page(page)
    page = client.get(f"/manage/bank/import/preview/{token}?page=3").get_data(as_text=True)
    assert "第41题的题干" in page and "第45题的题干" in page and "第40题的题干" not in page
    response = client.post("/manage/bank/import/confirm", data={"token": token,
                                                                "duplicates": "skip"})
    assert response.status_code == 302 and count_questions() == 45


def token_of_page(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_texts_longer_than_the_question_form_allows_are_problems(client, org, login):
    text = "题型,题干,选项A,选项B,答案\n" f"单选题,{'长' * 5001},甲,乙,A\n单选题,短题干,甲,乙,A\n"
    login(org.admin)
    page = upload(client, text.encode(), "a.csv").get_data(as_text=True)
    assert "Question text has 5001 characters; at most 5000 are allowed." in page
    assert "长" * 5001 not in page
    token = token_of_page(page)
    client.post("/manage/bank/import/confirm", data={"token": token, "duplicates": "skip",
                                                     "valid_only": "y"})
    assert count_questions() == 1
