"""Browser sign-in: success, lockout shared with the API, session rotation and logout."""

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts_auth import lockout
from accounts_auth.models import AuthEvent, User
from tests.auth_browser.conftest import PASSWORD, sign_in, unique_email, unique_ip


def test_login_page_renders_form(browser, db):
    response = browser.get("/accounts/login/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert 'name="login"' in content
    assert 'name="password"' in content
    assert 'href="/accounts/password/reset/"' in content


def test_login_success_redirects_and_records_event(browser, verified_user):
    response = sign_in(browser, verified_user.email)

    assert response.status_code == 302, response.content
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert browser.session["_auth_user_id"] == str(verified_user.pk)
    event = AuthEvent.objects.get(user=verified_user, event="sign_in")
    assert event.outcome == "success"
    assert event.method == "browser"
    assert event.detail["factors"] == ["password"]
    assert event.ip.startswith("10.")
    assert event.user_agent == "pytest-browser"


def test_login_email_is_case_insensitive(browser, verified_user):
    response = sign_in(browser, verified_user.email.upper())

    assert response.status_code == 302, response.content
    assert browser.session["_auth_user_id"] == str(verified_user.pk)


def test_login_wrong_password_shows_error_and_records_failure(browser, verified_user):
    response = sign_in(browser, verified_user.email, password="not the password")

    assert response.status_code == 200, response.content
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    event = AuthEvent.objects.get(email=verified_user.email, event="sign_in_failed")
    assert event.outcome == "failure"
    assert event.detail == {"reason": "invalid_credentials"}
    assert "not the password" not in str(event.detail)


def test_login_lockout_after_five_failures(browser, verified_user):
    for _ in range(5):
        response = sign_in(browser, verified_user.email, password="wrong password")
        assert response.status_code == 200, response.content
        assert "not correct" in response.content.decode()

    response = sign_in(browser, verified_user.email)

    assert response.status_code == 200, response.content
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in browser.session
    locked = AuthEvent.objects.filter(email=verified_user.email, detail__reason="locked_out")
    assert locked.count() == 1


def test_login_lockout_applies_per_account_across_addresses(verified_user):
    for _ in range(5):
        sign_in(Client(REMOTE_ADDR=unique_ip()), verified_user.email, password="wrong password")

    response = sign_in(Client(REMOTE_ADDR=unique_ip()), verified_user.email)

    assert response.status_code == 200, response.content
    assert "Too many failed sign-in attempts." in response.content.decode()


def test_login_success_resets_account_failures(browser, verified_user):
    for _ in range(4):
        sign_in(browser, verified_user.email, password="wrong password")

    response = sign_in(browser, verified_user.email)

    assert response.status_code == 302, response.content
    # A fifth failure would lock the account had the success not reset its counter. The check
    # is made on the lockout itself because allauth's own rate limit (5 per 5 minutes per
    # account, never reset by a success) would stop a sixth form post first.
    lockout.login_failure_record(email=verified_user.email, ip=None)
    lockout.login_attempt_check(email=verified_user.email, ip=None)


def test_login_rotates_session_key_and_csrf_token(browser, verified_user):
    browser.get("/accounts/login/")
    anonymous_session = browser.session
    anonymous_session["probe"] = "before-login"
    anonymous_session.save()
    session_key_before = anonymous_session.session_key
    csrf_before = browser.cookies[settings.CSRF_COOKIE_NAME].value

    response = sign_in(browser, verified_user.email)

    assert response.status_code == 302, response.content
    assert browser.session.session_key != session_key_before
    assert browser.cookies[settings.CSRF_COOKIE_NAME].value != csrf_before
    assert not browser.session.exists(session_key_before)


def test_login_creates_user_session_row(browser, verified_user):
    sign_in(browser, verified_user.email)

    sessions = UserSession.objects.filter(user=verified_user)
    assert sessions.count() == 1
    assert sessions.get().session_key == browser.session.session_key
    assert sessions.get().ip.startswith("10.")


def test_login_user_verified_by_athena_skips_confirmation(browser, db):
    user = User.objects.create_user(email=unique_email("admin-made"), password=PASSWORD)
    user.email_verified_at = timezone.now()
    user.save()

    response = sign_in(browser, user.email)

    assert response.status_code == 302, response.content
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_login_inactive_user_rejected(browser, verified_user):
    verified_user.is_active = False
    verified_user.save()

    response = sign_in(browser, verified_user.email)

    assert "_auth_user_id" not in browser.session
    assert response.status_code in (200, 302), response.content


def test_logout_invalidates_session_on_server(browser, verified_user):
    sign_in(browser, verified_user.email)
    old_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get("/accounts/email/").status_code == 200

    response = browser.post("/accounts/logout/")

    assert response.status_code == 302, response.content
    replay = Client(REMOTE_ADDR=unique_ip())
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    page = replay.get("/accounts/email/")
    assert page.status_code == 302, page.content
    assert page["Location"].startswith("/accounts/login/")
    assert AuthEvent.objects.filter(user=verified_user, event="logout", method="browser").count() == 1
    # allauth keeps the row until the next listing purges it; its session is already gone.
    assert not UserSession.objects.get(user=verified_user).exists()
    assert UserSession.objects.purge_and_list(verified_user) == []


def test_logout_get_asks_for_confirmation(browser, verified_user):
    sign_in(browser, verified_user.email)

    response = browser.get("/accounts/logout/")

    assert response.status_code == 200, response.content
    assert "_auth_user_id" in browser.session
