"""A refusal always leaves exactly one audit row, even when a service refuses inside its own
transaction and the exception rolls that transaction back (sst.access.Refused and
AccessPolicyMiddleware.process_exception)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from cases.mapping import services as mapping_services
from cases.models import HealthTalk
from sst import access
from sst.middleware import AccessPolicyMiddleware
from sst.models import AuditAction, AuditEvent, AuditObjectType


def _refusals():
    return AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED)


def _after_the_view(exception: Exception) -> None:
    """What Django does once a view has raised: the middleware's exception hook."""
    middleware = AccessPolicyMiddleware(lambda request: HttpResponse())
    middleware.process_exception(RequestFactory().get("/"), exception)


def test_a_refusal_inside_a_service_transaction_keeps_one_audit_row(world):
    # The principal may read the student but not record a health talk (the nurse's job):
    # the service refuses inside its transaction, which rolls back the refusal's row too.
    with pytest.raises(access.Refused) as refused:
        mapping_services.health_talk_add(
            student=world.student_a1, held_on=timezone.localdate(), note="x", by=world.principal_a
        )
    assert not _refusals().exists()
    assert not HealthTalk.objects.exists()

    _after_the_view(refused.value)

    row = _refusals().get()
    assert row.actor_username == "principal_a"
    assert row.object_type == AuditObjectType.STUDENT
    assert row.object_id == str(world.student_a1.public_id)
    assert row.detail == {"needs": "write_health_talk"}


def test_a_refusal_outside_a_transaction_is_not_written_twice(world):
    with pytest.raises(access.Refused) as refused:
        access.require(world.principal_a, access.Capability.WRITE_HEALTH_TALK, world.student_a1)
    assert _refusals().count() == 1

    _after_the_view(refused.value)

    assert _refusals().count() == 1


def test_the_request_path_keeps_the_row(world, client):
    """Through a real request: a refused page answers 404 and leaves exactly one row."""
    client.force_login(world.mentor_a1)
    response = client.get(f"/elever/arende/{'0' * 8}-0000-0000-0000-{'0' * 12}/")
    assert response.status_code == 404
    assert _refusals().filter(actor_username="mentor_a1").count() == 1
