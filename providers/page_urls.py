"""Routes of the providers app's pages, mounted at the site root."""

from django.urls import path

from providers import pages

app_name = "provider_pages"

urlpatterns = [
    path("connections/providers/<uuid:provider_id>/connect/", pages.account_connect, name="account-connect"),
    path("connections/accounts/<uuid:account_id>/test/", pages.account_test, name="account-test"),
    path("connections/accounts/<uuid:account_id>/delete/", pages.account_delete, name="account-delete"),
]
