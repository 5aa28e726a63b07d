"""Router whose routes match with and without a trailing slash."""

from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    """A SimpleRouter whose paths accept an optional trailing slash."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
