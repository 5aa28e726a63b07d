"""Password reset by email and password change for signed-in users."""

from django.core import mail

from accounts_auth.models import AuthEvent
from tests.auth_browser.conftest import PASSWORD, link_from_last_email, sign_in

NEW_PASSWORD = "a brand new passphrase"


def test_password_reset_email_flow(browser, verified_user):
    response = browser.post("/accounts/password/reset/", {"email": verified_user.email})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [verified_user.email]
    key_path = link_from_last_email("/accounts/password/reset/key/")

    form_page = browser.get(key_path, follow=True)
    assert form_page.status_code == 200, form_page.content
    form_path = form_page.redirect_chain[-1][0]
    response = browser.post(form_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/password/reset/key/done/"
    verified_user.refresh_from_db()
    assert verified_user.check_password(NEW_PASSWORD)
    assert AuthEvent.objects.filter(user=verified_user, event="password_reset", outcome="success").count() == 1
    assert sign_in(browser, verified_user.email, password=NEW_PASSWORD).status_code == 302


def test_password_reset_link_works_once(browser, verified_user):
    browser.post("/accounts/password/reset/", {"email": verified_user.email})
    key_path = link_from_last_email("/accounts/password/reset/key/")
    form_path = browser.get(key_path, follow=True).redirect_chain[-1][0]
    browser.post(form_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    response = browser.get(key_path, follow=True)

    assert response.status_code == 200, response.content
    assert response.context["token_fail"] is True
    assert "The password reset link was invalid" in response.content.decode()


def test_password_reset_unknown_email_reveals_nothing(browser, db):
    response = browser.post("/accounts/password/reset/", {"email": "nobody-here@example.com"})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/password/reset/done/"


def test_password_reset_rejects_common_password(browser, verified_user):
    browser.post("/accounts/password/reset/", {"email": verified_user.email})
    key_path = link_from_last_email("/accounts/password/reset/key/")
    form_path = browser.get(key_path, follow=True).redirect_chain[-1][0]

    response = browser.post(form_path, {"password1": "qwerty123", "password2": "qwerty123"})

    assert response.status_code == 200, response.content
    assert "too common" in response.content.decode()
    verified_user.refresh_from_db()
    assert verified_user.check_password(PASSWORD)


def test_password_change_keeps_session_and_records_event(browser, verified_user):
    sign_in(browser, verified_user.email)

    response = browser.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content
    verified_user.refresh_from_db()
    assert verified_user.check_password(NEW_PASSWORD)
    assert browser.session["_auth_user_id"] == str(verified_user.pk)
    assert browser.get("/accounts/email/").status_code == 200
    event = AuthEvent.objects.get(user=verified_user, event="password_changed")
    assert event.method == "browser"
    assert event.detail == {}


def test_password_change_wrong_current_password(browser, verified_user):
    sign_in(browser, verified_user.email)

    response = browser.post(
        "/accounts/password/change/",
        {"oldpassword": "not my password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 200, response.content
    assert "current password" in response.content.decode().lower()
    verified_user.refresh_from_db()
    assert verified_user.check_password(PASSWORD)
