"""The hottest read of the engine, in one statement: closures and active allocations.

Every availability() call and every piece of a slots_search needs both. Built with the ORM
they cost two round trips and about 1 ms each of query compilation — more than the interval
arithmetic itself (bench/README.md). Here the SQL text comes from the models' own table and
column names, is the same on SQLite and PostgreSQL, and is checked against the equivalent ORM
queries in tests/booking/test_availability_sql.py."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection

from .models import Allocation, Closure


@dataclass(frozen=True, slots=True)
class ClosureRow:
    resource_id: int | None
    place_id: int | None
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class AllocationRow:
    resource_id: int
    blocked_start: dt.datetime
    blocked_end: dt.datetime
    units: int


def closures_and_allocations(
    *,
    resource_ids: Collection[int],
    place_ids: Collection[int],
    start: dt.datetime,
    end: dt.datetime,
    allocations_start: dt.datetime,
    allocations_end: dt.datetime,
    exclude_booking_id: int | None = None,
) -> tuple[list[ClosureRow], list[AllocationRow]]:
    """Closures meeting [start, end) of the resources, of the places, or of everything; and
    active allocations of the resources meeting [allocations_start, allocations_end), but those
    of `exclude_booking_id`."""
    closures_sql, allocations_sql = _statements()
    adapt = connection.ops.adapt_datetimefield_value
    resources_sql, resources_params = _in(resource_ids)
    places_sql, places_params = _in(place_ids)
    params: list = [adapt(end), adapt(start), *resources_params, *places_params]
    params += [True, adapt(allocations_end), adapt(allocations_start), *resources_params]
    sql = closures_sql.format(resources=resources_sql, places=places_sql)
    sql += allocations_sql.format(resources=resources_sql)
    if exclude_booking_id is not None:
        sql += f" AND {_column(Allocation, 'booking')} <> %s"
        params.append(exclude_booking_id)
    closures: list[ClosureRow] = []
    allocations: list[AllocationRow] = []
    to_datetime = _datetime_converter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, resource_id, place_id, row_start, row_end, units in cursor.fetchall():
            row_start, row_end = to_datetime(row_start), to_datetime(row_end)
            if kind == 0:
                closures.append(ClosureRow(resource_id, place_id, row_start, row_end))
            else:
                allocations.append(AllocationRow(resource_id, row_start, row_end, units))
    return closures, allocations


def _in(values: Collection[int]) -> tuple[str, list]:
    """ "= ANY(%s)" with one array on PostgreSQL (psycopg splits and the planner parses a list
    of hundreds of placeholders slowly: measured 1.5 ms a query), "IN (%s, …)" elsewhere."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    # An empty IN () is a syntax error; IN (NULL) matches nothing.
    return "IN ({})".format(", ".join(["%s"] * len(values)) or "NULL"), list(values)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@functools.cache
def _statements() -> tuple[str, str]:
    """The two halves of the UNION, with {resources} and {places} left for the placeholders.
    Only identifiers from the models' metadata, quoted by the backend, go into the text (hence
    the noqa); every value is a parameter."""
    closure_table = connection.ops.quote_name(Closure._meta.db_table)
    allocation_table = connection.ops.quote_name(Allocation._meta.db_table)
    c = functools.partial(_column, Closure)
    a = functools.partial(_column, Allocation)
    closures = (
        f"SELECT 0, {c('resource')}, {c('place')}, {c('start')}, {c('end')}, 0 "  # noqa: S608
        f"FROM {closure_table} "
        f"WHERE {c('start')} < %s AND {c('end')} > %s AND ("
        f"{c('resource')} {{resources}} OR {c('place')} {{places}} "
        f"OR ({c('resource')} IS NULL AND {c('place')} IS NULL))"
    )
    allocations = (
        f" UNION ALL SELECT 1, {a('resource')}, NULL, {a('blocked_start')}, {a('blocked_end')}, "  # noqa: S608
        f"{a('units')} FROM {allocation_table} "
        f"WHERE {a('is_active')} = %s AND {a('blocked_start')} < %s AND {a('blocked_end')} > %s "
        f"AND {a('resource')} {{resources}}"
    )
    return closures, allocations


def _datetime_converter():
    """PostgreSQL returns aware datetimes; SQLite returns text, which the backend's own
    converter parses and makes aware, as the ORM would."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if convert is None:
        return lambda value: value
    return lambda value: convert(value, None, connection)
