"""Logging that never carries personal data about children."""

import logging
import re

from django.views.debug import SafeExceptionReporterFilter

from . import requestid

# 10 or 12 digits with an optional separator: what a personnummer looks like in free text.
PERSONNUMMER_LIKE = re.compile(r"(?<![\w-])(\d{2})?\d{6}[-+ ]?\d{4}(?![\w-])")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = requestid.current()
        return True


class PersonnummerScrubFilter(logging.Filter):
    """Defence in depth: mask anything shaped like a personnummer before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = PERSONNUMMER_LIKE.sub("[personnummer]", message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


class NoPersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Error reports show no request parameters and no local variables at all."""

    def is_active(self, request: object) -> bool:
        return True

    def get_post_parameters(self, request):  # type: ignore[no-untyped-def]
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):  # type: ignore[no-untyped-def]
        return [("(hidden)", self.cleansed_substitute)]
