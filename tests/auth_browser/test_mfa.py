"""Two-factor sign-in with TOTP and recovery codes (allauth.mfa)."""

from allauth.mfa.models import Authenticator

from accounts_auth.models import AuthEvent
from tests.auth_browser.conftest import reauthenticate, sign_in, totp_activate, totp_code


def recovery_codes(user) -> list[str]:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()


def test_mfa_index_page_renders(browser, verified_user):
    sign_in(browser, verified_user.email)

    response = browser.get("/accounts/2fa/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "Authenticator App" in content
    assert 'aria-current="page"' in content


def test_mfa_activate_totp_records_event(browser, verified_user, django_capture_on_commit_callbacks):
    sign_in(browser, verified_user.email)

    # allauth sends `authenticator_added` for TOTP once the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        totp_activate(browser)

    assert Authenticator.objects.filter(user=verified_user, type=Authenticator.Type.TOTP).exists()
    assert len(recovery_codes(verified_user)) > 0
    events = AuthEvent.objects.filter(user=verified_user, event="mfa_activated")
    assert sorted(event.detail["type"] for event in events) == ["recovery_codes", "totp"]


def test_mfa_activate_requires_reauthentication(browser, verified_user):
    sign_in(browser, verified_user.email)

    response = browser.get("/accounts/2fa/totp/activate/")

    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_mfa_activate_page_shows_qr_code(browser, verified_user):
    sign_in(browser, verified_user.email)
    reauthenticate(browser)

    response = browser.get("/accounts/2fa/totp/activate/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert 'class="qr-code"' in content
    assert 'alt="QR code for your authenticator app"' in content


def test_mfa_login_asks_for_totp_then_signs_in(browser, verified_user):
    sign_in(browser, verified_user.email)
    secret = totp_activate(browser)
    browser.post("/accounts/logout/")

    response = sign_in(browser, verified_user.email)

    assert response.status_code == 302, response.content
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in browser.session
    page = browser.get("/accounts/2fa/authenticate/")
    assert page.status_code == 200, page.content
    assert 'autocomplete="one-time-code"' in page.content.decode()

    response = browser.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert response.status_code == 302, response.content
    assert browser.session["_auth_user_id"] == str(verified_user.pk)
    event = AuthEvent.objects.filter(user=verified_user, event="sign_in").latest("created_at")
    assert event.detail["factors"] == ["password", "mfa"]
    assert event.detail["mfa_types"] == ["totp"]


def test_mfa_login_wrong_code_rejected_and_recorded(browser, verified_user):
    sign_in(browser, verified_user.email)
    secret = totp_activate(browser)
    browser.post("/accounts/logout/")
    sign_in(browser, verified_user.email)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"

    response = browser.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 200, response.content
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    event = AuthEvent.objects.get(user=verified_user, event="sign_in_failed")
    assert event.detail["reason"] == "invalid_mfa_code"
    assert wrong not in str(event.detail)


def test_mfa_login_with_recovery_code(browser, verified_user):
    sign_in(browser, verified_user.email)
    totp_activate(browser)
    codes = recovery_codes(verified_user)
    browser.post("/accounts/logout/")
    sign_in(browser, verified_user.email)

    response = browser.post("/accounts/2fa/authenticate/", {"code": codes[0]})

    assert response.status_code == 302, response.content
    assert browser.session["_auth_user_id"] == str(verified_user.pk)
    assert codes[0] not in recovery_codes(verified_user)
    event = AuthEvent.objects.filter(user=verified_user, event="sign_in").latest("created_at")
    assert event.detail["mfa_types"] == ["recovery_codes"]
    assert codes[0] not in str(event.detail)


def test_mfa_recovery_code_works_once(browser, verified_user):
    sign_in(browser, verified_user.email)
    totp_activate(browser)
    code = recovery_codes(verified_user)[0]
    browser.post("/accounts/logout/")
    sign_in(browser, verified_user.email)
    browser.post("/accounts/2fa/authenticate/", {"code": code})
    browser.post("/accounts/logout/")
    sign_in(browser, verified_user.email)

    response = browser.post("/accounts/2fa/authenticate/", {"code": code})

    assert response.status_code == 200, response.content
    assert "_auth_user_id" not in browser.session


def test_mfa_deactivate_totp_records_event(browser, verified_user):
    sign_in(browser, verified_user.email)
    totp_activate(browser)
    reauthenticate(browser)

    response = browser.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302, response.content
    assert not Authenticator.objects.filter(user=verified_user, type=Authenticator.Type.TOTP).exists()
    events = AuthEvent.objects.filter(user=verified_user, event="mfa_deactivated")
    assert "totp" in [event.detail["type"] for event in events]
