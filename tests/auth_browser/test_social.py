"""Google and GitHub sign-in appear only when their client id and secret are configured."""

from django.test import override_settings

GITHUB_ONLY = {"github": {"APPS": [{"client_id": "test-github-client", "secret": "test-github-secret"}]}}
BOTH = {
    **GITHUB_ONLY,
    "google": {"APPS": [{"client_id": "test-google-client", "secret": "test-google-secret"}]},
}


@override_settings(SOCIALACCOUNT_PROVIDERS={})
def test_social_buttons_hidden_without_configuration(browser, db):
    response = browser.get("/accounts/login/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "Continue with" not in content
    assert "/accounts/github/login/" not in content
    assert "/accounts/google/login/" not in content


@override_settings(SOCIALACCOUNT_PROVIDERS=GITHUB_ONLY)
def test_social_buttons_show_configured_provider_only(browser, db):
    response = browser.get("/accounts/login/")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "Continue with GitHub" in content
    assert "/accounts/github/login/" in content
    assert "/accounts/google/login/" not in content


@override_settings(SOCIALACCOUNT_PROVIDERS=BOTH)
def test_social_buttons_show_both_providers(browser, db):
    response = browser.get("/accounts/login/")

    content = response.content.decode()
    assert "Continue with GitHub" in content
    assert "Continue with Google" in content


@override_settings(SOCIALACCOUNT_PROVIDERS=GITHUB_ONLY)
def test_social_login_redirects_browser_to_provider(browser, db):
    # The server only returns a redirect, and the test client does not follow it, so no
    # request leaves the machine.
    page = browser.get("/accounts/github/login/?process=login")
    assert page.status_code == 200, page.content

    response = browser.post("/accounts/github/login/?process=login")

    assert response.status_code == 302, response.content
    assert response["Location"].startswith("https://github.com/login/oauth/authorize?")
    assert "client_id=test-github-client" in response["Location"]
