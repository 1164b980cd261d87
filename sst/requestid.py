"""The current request's context (id, address, page), readable anywhere: logs and audit."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    path_name: str = ""


_current: ContextVar[RequestContext] = ContextVar("request_context", default=RequestContext())  # noqa: B039 (frozen)
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """Keep a well-formed id from the proxy in front, otherwise make one."""
    if incoming and _ACCEPTED.match(incoming):
        return incoming
    return uuid.uuid4().hex


def set_context(context: RequestContext) -> Token[RequestContext]:
    return _current.set(context)


def reset(token: Token[RequestContext]) -> None:
    _current.reset(token)


def current_context() -> RequestContext:
    return _current.get()


def current() -> str:
    return _current.get().request_id or "-"
