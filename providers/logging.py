"""A log filter that keeps credentials placed in query strings out of HTTP client logs.

urllib3 logs each request line at DEBUG and httpx2 logs each URL at INFO, query string
included, so an API key placed in the query would otherwise reach the logs.
"""

import logging
import re

# A path or URL followed by a query string, up to the next space or quote.
_QUERY = re.compile(r"(\?)[^\s\"']+")
HTTP_CLIENT_LOGGERS = ("urllib3.connectionpool", "httpx2")


def _strip_query(value: object) -> object:
    text = str(value)
    if "?" not in text:
        return value
    return _QUERY.sub(r"\1[redacted]", text)


class QueryStringRedactingFilter(logging.Filter):
    """Replace the query string of every URL in a record's message and arguments with `[redacted]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_strip_query(argument) for argument in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _strip_query(value) for key, value in record.args.items()}
        if isinstance(record.msg, str) and "?" in record.msg and not record.args:
            record.msg = _QUERY.sub(r"\1[redacted]", record.msg)
        return True


def install_query_string_redaction() -> None:
    """Attach the filter to the HTTP client loggers once."""
    for name in HTTP_CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, QueryStringRedactingFilter) for existing in logger.filters):
            logger.addFilter(QueryStringRedactingFilter())
