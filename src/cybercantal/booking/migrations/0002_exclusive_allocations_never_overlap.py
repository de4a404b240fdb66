"""On PostgreSQL the database itself forbids two active allocations of an exclusive resource
(capacity 1) from overlapping, whatever the application does: an exclusion constraint on
(resource, blocked interval) with btree_gist. Resources with capacity > 1 are guarded by the
services, which lock the resource row before counting (see booking/services.py). SQLite has no
exclusion constraints; its writers are serialised (BEGIN IMMEDIATE)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE booking_allocation ADD CONSTRAINT booking_allocation_exclusive_no_overlap
       EXCLUDE USING gist (
         resource_id WITH =,
         tstzrange(blocked_start, blocked_end, '[)') WITH &&
       ) WHERE (is_active AND is_exclusive)""",
]
BACKWARD = [
    "ALTER TABLE booking_allocation DROP CONSTRAINT IF EXISTS "
    "booking_allocation_exclusive_no_overlap",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
