"""The audit log is append-only: the ORM refuses changes and deletes; the database refuses
changes everywhere, and deletes on PostgreSQL outside the retention purge."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cybercantal.core.audit import audit_log
from cybercantal.core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(django_user_model):
    agent = django_user_model.objects.create_user(username="agent", first_name="Anne")
    return audit_log(
        actor=agent, action="test.viewed", data={"why": "contrôle"}, ip_address="192.0.2.1"
    )


def test_audit_log_records_who_did_what(entry):
    entry.refresh_from_db()
    assert entry.actor.username == "agent"
    assert entry.actor_repr == "Anne"
    assert entry.action == "test.viewed"
    assert entry.data == {"why": "contrôle"}
    assert entry.ip_address == "192.0.2.1"


def test_audit_log_of_the_system_has_no_actor():
    entry = audit_log(actor=None, action="test.system")
    assert entry.actor is None
    assert entry.actor_repr == "système"


def test_orm_refuses_to_save_an_existing_row(entry):
    entry.action = "test.rewritten"
    with pytest.raises(PermissionError, match="ajout seul"):
        entry.save()
    assert AuditLog.objects.get(pk=entry.pk).action == "test.viewed"


def test_orm_refuses_to_delete_a_row(entry):
    with pytest.raises(PermissionError, match="ajout seul"):
        entry.delete()
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_orm_refuses_queryset_update_and_delete(entry):
    with pytest.raises(PermissionError, match="ajout seul"):
        AuditLog.objects.filter(pk=entry.pk).update(action="test.rewritten")
    with pytest.raises(PermissionError, match="ajout seul"):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "test.viewed"


def test_database_refuses_a_raw_update(entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE core_auditlog SET action = %s WHERE id = %s", ["test.rewritten", entry.pk]
        )
    assert AuditLog.objects.get(pk=entry.pk).action == "test.viewed"


@pytest.mark.postgres
def test_database_refuses_a_raw_delete(entry):
    # SQLite has no per-transaction setting to let the retention purge through, so there the
    # ORM alone refuses deletes (migration core 0002 explains why).
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [entry.pk])
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_admin_shows_the_log_read_only(platform_admin_client, entry):
    client = platform_admin_client
    assert client.get(reverse("admin:core_auditlog_changelist")).status_code == 200
    change = client.get(reverse("admin:core_auditlog_change", args=[entry.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:core_auditlog_add")).status_code == 403
    delete_url = reverse("admin:core_auditlog_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()
