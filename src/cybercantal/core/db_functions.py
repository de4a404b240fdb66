"""Database functions the ORM does not ship.

EpochSeconds reads a timestamp as seconds since 1970 (a float). Reports that read thousands of
timestamps only to add durations or find a local day use it: on PostgreSQL, turning each
timestamptz into an aware datetime costs ~20 µs in Django's loader, a float almost nothing."""

from __future__ import annotations

from django.db.models import FloatField, Func


class EpochSeconds(Func):
    """EXTRACT(EPOCH FROM …) on PostgreSQL; on SQLite, whose datetimes are UTC text,
    julianday arithmetic (keeps the fractions of a second)."""

    arity = 1
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra_context,
        )
