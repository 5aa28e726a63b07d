"""Routes of the threads API, mounted under /api/v1/."""

from athena_site.api.routers import ApiRouter

router = ApiRouter()

urlpatterns = router.urls
