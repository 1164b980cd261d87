"""Logging that never carries personal data about children."""

import logging
import re
from collections.abc import ItemsView
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

from . import requestid

# 10 or 12 digits with an optional separator: what a personnummer looks like in free text.
PERSONNUMMER_LIKE = re.compile(r"(?<![\w-])(\d{2})?\d{6}[-+ ]?\d{4}(?![\w-])")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = requestid.current()
        return True


class PersonnummerScrubFilter(logging.Filter):
    """Defence in depth: mask anything shaped like a personnummer before it is written.

    The message, a logged exception's traceback (an exception's text may quote a value) and
    the stack. Deliberately no date or check-digit test: a mistyped number is personal data
    too. The pattern stops at letters, digits and hyphens on either side, so the digit
    groups of a UUID (audit ids, request ids) stay readable.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            # The formatter reuses a cached exc_text, so the scrubbed text is what is written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = _scrub(record.stack_info)
        return True


def _scrub(text: str) -> str:
    return PERSONNUMMER_LIKE.sub("[personnummer]", text)


class NoPersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Error reports show no request parameters and no local variables at all."""

    def is_active(self, request: object) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        return {"(hidden)": self.cleansed_substitute}.items()
