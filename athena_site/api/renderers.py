"""JSON renderer that wraps successful responses in Athena's `{data}` envelope."""

from typing import Any

from rest_framework.renderers import JSONRenderer


class EnvelopeJSONRenderer(JSONRenderer):
    """Render `{"data": ...}` for 2xx bodies; errors and paginated lists already have their shape."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None and self._needs_envelope(response, data):
            data = {"data": data}
        return super().render(data, accepted_media_type, renderer_context)

    @staticmethod
    def _needs_envelope(response: Any, data: Any) -> bool:
        if response.status_code >= 400 or response.status_code == 204 or data is None:
            return False
        return not getattr(response, "is_enveloped", False) and not getattr(response, "is_error", False)
