"""Sign-up with mandatory email verification, and the password rules the form applies."""

from allauth.account.models import EmailAddress
from django.core import mail

from accounts_auth.models import User
from tests.auth_browser.conftest import PASSWORD, link_from_last_email, unique_email


def signup(client, email, password=PASSWORD, password2=None):
    return client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password2 or password})


def test_signup_page_renders_in_athena_layout(browser, db):
    response = browser.get("/accounts/signup/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert '<link rel="stylesheet" href="/static/css/athena.css">' in content
    assert 'name="email"' in content
    assert "Skip to main content" in content


def test_signup_verify_email_then_signed_in(browser, db):
    email = unique_email("signup")

    response = signup(browser, email)

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [email]
    assert "Athena" in mail.outbox[0].body
    user = User.objects.get(email=email)
    assert not EmailAddress.objects.get(user=user).verified
    assert "_auth_user_id" not in browser.session

    confirm_path = link_from_last_email("/accounts/confirm-email/")
    page = browser.get(confirm_path)
    assert page.status_code == 200, page.content
    response = browser.post(confirm_path)

    assert response.status_code == 302, response.content
    assert EmailAddress.objects.get(user=user).verified
    assert browser.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.email_verified_at is not None
    home = browser.get("/")
    assert email in home.content.decode()


def test_signup_unverified_user_cannot_sign_in(browser, db):
    email = unique_email("unverified")
    signup(browser, email)
    browser.logout()

    response = browser.post("/accounts/login/", {"login": email, "password": PASSWORD})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in browser.session


def test_signup_accepts_64_character_password(browser, db):
    email = unique_email("long")
    password = "a-long-passphrase-with-many-words-" + "x" * 30

    response = signup(browser, email, password=password)

    assert len(password) == 64
    assert response.status_code == 302, response.content
    assert User.objects.get(email=email).check_password(password)


def test_signup_accepts_password_without_composition(browser, db):
    email = unique_email("plain")

    response = signup(browser, email, password="lowercaseonlywords")

    assert response.status_code == 302, response.content
    assert User.objects.filter(email=email).exists()


def test_signup_rejects_short_password(browser, db):
    email = unique_email("short")

    response = signup(browser, email, password="a1b2c3d")

    assert response.status_code == 200, response.content
    assert "at least 8 characters" in response.content.decode()
    assert not User.objects.filter(email=email).exists()


def test_signup_rejects_common_password(browser, db):
    email = unique_email("common")

    response = signup(browser, email, password="password123")

    assert response.status_code == 200, response.content
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email=email).exists()


def test_signup_taken_email_does_not_reveal_account(browser, verified_user):
    response = signup(browser, verified_user.email.upper())

    # allauth responds as for a new account and emails the owner instead, so the form
    # cannot be used to find out which addresses have accounts.
    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email__iexact=verified_user.email).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [verified_user.email]
    assert "already" in mail.outbox[0].body
