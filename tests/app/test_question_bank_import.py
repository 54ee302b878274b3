"""Issue 11 in the app: conflicting repeats, type codes confirmed on the page and the CLI."""

import io
import re

import sqlalchemy as sa

from studyhall.bank.importing import apply_question_import, plan_question_import
from studyhall.bank.models import Question
from studyhall.extensions import db


def test_a_repeat_with_a_different_answer_is_an_error_naming_both_lines(app):
    text = ("题型,题干,选项A,选项B,答案\n单选题,同一题,甲,乙,A\n单选题,其他,甲,乙,A\n"
            "单选题,同一题,甲,乙,B\n")
    plan = plan_question_import(text.encode(), "a.csv")
    assert [row.fate for row in plan.rows] == ["new", "new", "repeat"]
    (error,) = plan.errors
    assert error.line == 4
    assert "2" in error.message
    assert not plan.can_apply(valid_only=False)
    assert apply_question_import(plan, valid_only=True)["created"] == 2


CODED = ("题型,题干,选项一内容,选项二内容,选项A是否正确,选项B是否正确,正确答案\n"
         "1,问一,甲,乙,0,1,\n2,问二,甲,乙,1,1,\n3,对吗,,,,,对\n")


def upload(client, data: bytes, filename: str):
    return client.post("/manage/bank/import", data={
        "file": (io.BytesIO(data), filename), "format": "", "category_id": 0},
        content_type="multipart/form-data")


def count_questions() -> int:
    return db.session.scalar(sa.select(sa.func.count(Question.id)))


def test_numeric_type_codes_are_confirmed_on_the_page_before_importing(client, org, login):
    login(org.admin)
    page = upload(client, CODED.encode(), "coded.csv").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert 'name="code-1"' in page and 'name="code-3"' in page
    assert re.search(r'<option value="true_false" selected>', page)
    assert "/manage/bank/import/confirm" not in page  # no import button before confirming
    response = client.post("/manage/bank/import/confirm", data={"token": token})
    assert count_questions() == 0
    response = client.post("/manage/bank/import/type-codes", data={
        "token": token, "code-1": "single", "code-2": "multiple", "code-3": "true_false"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/manage/bank/import/confirm" in page
    response = client.post("/manage/bank/import/confirm", data={"token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(Question.type))) == [
        "multiple", "single", "true_false"]


def test_a_changed_mapping_is_what_gets_imported(client, org, login):
    login(org.admin)
    page = upload(client, CODED.encode(), "coded.csv").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    client.post("/manage/bank/import/type-codes", data={
        "token": token, "code-1": "multiple", "code-2": "multiple", "code-3": "true_false"})
    client.post("/manage/bank/import/confirm", data={"token": token})
    db.session.expire_all()
    assert sorted(db.session.scalars(sa.select(Question.type))) == [
        "multiple", "multiple", "true_false"]


def test_cli_refuses_guessed_codes_and_takes_type_codes(app, tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text(CODED, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-questions", str(path)])
    assert result.exit_code == 1
    assert "--type-codes 1=single,2=multiple,3=true_false" in result.output
    assert count_questions() == 0
    result = runner.invoke(args=["import-questions", str(path), "--type-codes",
                                 "1=single,2=多选题,3=判断"])
    assert result.exit_code == 0, result.output
    assert count_questions() == 3
    result = runner.invoke(args=["import-questions", str(path), "--type-codes", "1=排序"])
    assert result.exit_code == 2 and "1=排序" in result.output


def test_a_repeat_with_its_options_in_another_order_is_no_conflict(app):
    text = ("题型,题干,选项A,选项B,选项C,答案\n多选题,同一题,甲,乙,丙,AB\n"
            "多选题,同一题,丙,乙,甲,BC\n")
    plan = plan_question_import(text.encode(), "a.csv")
    assert [row.fate for row in plan.rows] == ["new", "repeat"]
    assert plan.errors == []


def test_every_warning_is_reachable_on_the_preview_pages(client, org, login):
    gift = "\n\n".join(f"问{n}{{=对#反馈{n} ~错}}" for n in range(60)).encode()
    login(org.admin)
    page = upload(client, gift, "many.gift").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert "反馈0" in page and "反馈59" not in page
    page = client.get(f"/manage/bank/import/preview/{token}?warnings=2").get_data(as_text=True)
    assert "反馈59" in page
