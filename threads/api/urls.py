"""Routes of the threads API, mounted under /api/v1/."""

from django.urls import re_path

from athena_site.api.routers import ApiRouter
from threads.api.openai import ChatCompletionsView, OpenAIModelsView
from threads.api.views import AttachmentViewSet, ThreadViewSet

router = ApiRouter()
router.register("threads", ThreadViewSet, basename="thread")
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = [
    re_path(r"^openai/chat/completions/?$", ChatCompletionsView.as_view(), name="openai-chat-completions"),
    re_path(r"^openai/models/?$", OpenAIModelsView.as_view(), name="openai-models"),
    *router.urls,
]
