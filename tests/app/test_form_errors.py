"""A form sent back with errors ties each message to its field, for screen readers too."""

import re


def test_errors_are_tied_to_their_fields(client, org, login):
    login(org.teacher)
    page = client.post("/account/password", data={
        "current_password": "", "new_password": "short", "confirm": "other"}).get_data(
        as_text=True)
    new = re.search(r"<input[^>]*id=\"new_password\"[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in new
    assert 'aria-describedby="new_password-hint new_password-error"' in new
    assert re.search(r'<ul class="errors" id="new_password-error"><li>Use 8 to 200', page)
    confirm = re.search(r"<input[^>]*id=\"confirm\"[^>]*>", page).group(0)
    assert 'aria-describedby="confirm-error"' in confirm and 'aria-invalid="true"' in confirm
    assert 'id="confirm-error"' in page


def test_a_valid_field_is_not_marked(client, org, login):
    login(org.teacher)
    page = client.get("/account/password").get_data(as_text=True)
    assert "aria-invalid" not in page
    assert 'aria-describedby="new_password-hint"' in page
