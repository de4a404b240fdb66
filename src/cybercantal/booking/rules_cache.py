"""Weekly rules of resources kept in memory for the nearest-slot search.

A search reads the rules of dozens to hundreds of resources: they change a few times a year,
yet reading and parsing them cost as much as all the slot arithmetic of the search. Each process
keeps them, keyed by resource and checked against Resource.rules_version (bumped whenever a
rule of the resource is saved or deleted, see rules_changed) and the resource's usual place
(the place of rules that name none). The search reads the resources, hence their version,
before the rules, so a change committed in between is only ever stored under the old version.

The booking services never use this cache: they re-read the rules under the lock, so a slot
shown from stale rules is refused with a clear message rather than booked."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence

from django.db.models import F
from django.utils import timezone

from . import intervals as iv
from .models import Resource

MAX_RESOURCES = 50_000  # ~10 rules each: tens of MB at most, then start again

_lock = threading.Lock()
_rules: dict[int, tuple[tuple[int, int | None], list[iv.RuleSpec]]] = {}


def rules_for(resources: Sequence[Resource]) -> dict[int, list[iv.RuleSpec]]:
    """The rules of each resource that are still valid today or later (one query for those not
    in memory or changed since, none otherwise)."""
    from .availability import load_rules

    result: dict[int, list[iv.RuleSpec]] = {}
    missing: list[Resource] = []
    for resource in resources:
        entry = _rules.get(resource.pk)
        if entry is not None and entry[0] == (resource.rules_version, resource.place_id):
            result[resource.pk] = entry[1]
        else:
            missing.append(resource)
    if missing:
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        fresh = load_rules(missing, since=yesterday)
        with _lock:
            if len(_rules) + len(missing) > MAX_RESOURCES:
                _rules.clear()
            for resource in missing:
                specs = fresh.get(resource.pk, [])
                _rules[resource.pk] = ((resource.rules_version, resource.place_id), specs)
                result[resource.pk] = specs
    return result


def rules_changed(resource_ids: Iterable[int]) -> None:
    """To call after writing rules without saving each one (bulk_create, queryset.update);
    saving or deleting a rule calls it by itself (booking.apps)."""
    Resource.objects.filter(pk__in=list(resource_ids)).update(rules_version=F("rules_version") + 1)


def on_rule_written(sender, instance, **kwargs) -> None:
    """post_save / post_delete of AvailabilityRule (connected in booking.apps)."""
    rules_changed([instance.resource_id])


def clear() -> None:
    """Forget everything (tests: a rolled-back database may give the next resource the same
    primary key and version)."""
    with _lock:
        _rules.clear()
