"""The database itself refuses to rewrite audit rows.

- UPDATE is refused on SQLite and PostgreSQL.
- DELETE is refused on PostgreSQL unless the transaction has set
  `SET LOCAL cybercantal.audit_purge = 'on'`, which only the retention purge does. SQLite has
  no session settings, and Django's test flush there is a plain DELETE, so on SQLite deletes are
  refused by the ORM only (AuditLog.delete and its queryset).
- TRUNCATE stays possible for the database owner (Django's test flush on PostgreSQL uses it);
  production grants the application role no TRUNCATE (docs/deploy.md).
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'core_auditlog is append-only'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS core_auditlog_no_update;"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_auditlog_refuse_change() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE'
            AND coalesce(current_setting('cybercantal.audit_purge', true), '') = 'on' THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'core_auditlog is append-only';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditlog_no_update_delete BEFORE UPDATE OR DELETE ON core_auditlog
       FOR EACH ROW EXECUTE FUNCTION core_auditlog_refuse_change();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update_delete ON core_auditlog;",
    "DROP FUNCTION IF EXISTS core_auditlog_refuse_change();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
