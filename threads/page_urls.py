"""Routes of the chat pages, mounted at the site root."""

from django.urls import path

from threads import pages

app_name = "chat_pages"

urlpatterns = [
    path("agents/<uuid:agent_id>/chat/", pages.agent_chat, name="agent"),
    path("agents/<uuid:agent_id>/chat/new/", pages.thread_new, name="new"),
    path("threads/<uuid:thread_id>/", pages.thread_detail, name="thread"),
    path("threads/<uuid:thread_id>/messages/", pages.thread_messages, name="messages"),
    path("threads/<uuid:thread_id>/send/", pages.thread_send, name="send"),
    path("threads/<uuid:thread_id>/rename/", pages.thread_rename, name="rename"),
    path("threads/<uuid:thread_id>/archive/", pages.thread_archive, name="archive"),
    path("threads/<uuid:thread_id>/messages/<uuid:message_id>/rate/", pages.message_rate, name="rate"),
]
