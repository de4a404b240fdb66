"""Writing to the append-only audit log."""

from typing import Any

from django.db import models

from .models import AuditLog


def audit_log(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """Record a sensitive action. Call it inside the service's transaction so that the row
    exists if and only if the action happened."""
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        actor=actor if is_person else None,
        actor_repr=str(actor)[:200] if is_person else "système",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        data=data or {},
        ip_address=ip_address,
    )
