"""Routes of the agents, prompts, memories and public chat pages, mounted at the site root."""

from django.urls import path, re_path

from agents import pages, prompt_pages

app_name = "agent_pages"

urlpatterns = [
    path("agents/", pages.agent_list, name="list"),
    path("agents/new/", pages.agent_create, name="create"),
    path("agents/leaderboard/", pages.leaderboard, name="leaderboard"),
    path("agents/<uuid:agent_id>/", pages.agent_edit, name="edit"),
    path("agents/<uuid:agent_id>/delete/", pages.agent_delete, name="delete"),
    path("agents/<uuid:agent_id>/share/", pages.agent_share, name="share"),
    path("agents/<uuid:agent_id>/shares/<uuid:share_id>/revoke/", pages.agent_share_revoke, name="share-revoke"),
    # The token alphabet and length of public links, as the public run endpoint accepts them.
    re_path(r"^shared/agents/(?P<token>[A-Za-z0-9_-]{16,64})/$", pages.public_chat, name="public-chat"),
    path("prompts/", prompt_pages.prompt_list, name="prompt-list"),
    path("prompts/new/", prompt_pages.prompt_create, name="prompt-create"),
    path("prompts/<uuid:prompt_id>/", prompt_pages.prompt_edit, name="prompt-edit"),
    path("prompts/<uuid:prompt_id>/delete/", prompt_pages.prompt_delete, name="prompt-delete"),
    path("prompts/<uuid:prompt_id>/run/", prompt_pages.prompt_run, name="prompt-run"),
    path("prompts/<uuid:prompt_id>/versions/<int:number>/", prompt_pages.prompt_version, name="prompt-version"),
    path(
        "prompts/<uuid:prompt_id>/versions/<int:number>/restore/",
        prompt_pages.prompt_restore,
        name="prompt-restore",
    ),
    path("memories/", prompt_pages.memory_list, name="memory-list"),
    path("memories/new/", prompt_pages.memory_create, name="memory-create"),
    path("memories/<uuid:memory_id>/", prompt_pages.memory_edit, name="memory-edit"),
    path("memories/<uuid:memory_id>/delete/", prompt_pages.memory_delete, name="memory-delete"),
]
