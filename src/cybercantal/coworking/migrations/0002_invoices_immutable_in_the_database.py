"""The database itself refuses to rewrite issued invoices (the services' guard,
coworking/invoicing/guards.py, does not see QuerySet.update(), bulk writes or raw SQL).

- coworking_invoice: an UPDATE may change only the status, along the allowed transitions
  (issued → paid or credited, paid → credited), its time stamp, and the links to accounts
  that Django sets to NULL when an account is erased (buyer_user_id, issued_by_id).
- coworking_invoiceline: no UPDATE.
- coworking_payment: no UPDATE but the recorder's link set to NULL.
- coworking_invoiceseries: the last number never goes down.
- DELETE of invoices, lines and payments is refused on PostgreSQL. On SQLite, Django's test
  flush is a plain DELETE, so deletes are refused by the ORM guard only (as for core.AuditLog,
  core/migrations/0002).
"""

from django.db import migrations

FROZEN_INVOICE_COLUMNS = [
    "created_at",
    "operator_id",
    "sequence",
    "number",
    "kind",
    "issued_on",
    "due_on",
    "corrects_id",
    "buyer_organisation_id",
    "buyer_name",
    "buyer_address",
    "seller_name",
    "seller_address",
    "seller_siret",
    "seller_vat_number",
    "legal_mentions",
    "total_excl_tax_cents",
    "total_tax_cents",
    "total_incl_tax_cents",
]
FROZEN_PAYMENT_COLUMNS = [
    "created_at",
    "invoice_id",
    "amount_cents",
    "method",
    "received_on",
    "reference",
]
STATUS_ALLOWED = (
    "NEW.status = OLD.status"
    " OR (OLD.status = 'issued' AND NEW.status IN ('paid', 'credited'))"
    " OR (OLD.status = 'paid' AND NEW.status = 'credited')"
)
MESSAGE = "coworking invoices are immutable once issued"


def _changed(columns: list[str]) -> str:
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _changed_or_not_to_null(columns: list[str]) -> str:
    # A link may only be cleared (ON DELETE SET NULL), never pointed elsewhere.
    return " OR ".join(f"(NEW.{c} IS NOT OLD.{c} AND NEW.{c} IS NOT NULL)" for c in columns)


SQLITE = [
    f"""CREATE TRIGGER coworking_invoice_frozen BEFORE UPDATE ON coworking_invoice
        WHEN {_changed(FROZEN_INVOICE_COLUMNS)}
          OR {_changed_or_not_to_null(["buyer_user_id", "issued_by_id"])}
          OR NOT ({STATUS_ALLOWED})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER coworking_invoiceline_frozen BEFORE UPDATE ON coworking_invoiceline
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER coworking_payment_frozen BEFORE UPDATE ON coworking_payment
        WHEN {_changed(FROZEN_PAYMENT_COLUMNS)}
          OR {_changed_or_not_to_null(["recorded_by_id"])}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER coworking_invoiceseries_forward BEFORE UPDATE ON coworking_invoiceseries
        WHEN NEW.last_number < OLD.last_number
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS coworking_invoice_frozen;",
    "DROP TRIGGER IF EXISTS coworking_invoiceline_frozen;",
    "DROP TRIGGER IF EXISTS coworking_payment_frozen;",
    "DROP TRIGGER IF EXISTS coworking_invoiceseries_forward;",
]


def _postgres_function(name: str, condition: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR {condition} THEN
           RAISE EXCEPTION '{MESSAGE}';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;"""


POSTGRES_TABLES = {
    "coworking_invoice": " OR ".join(
        [
            _changed(FROZEN_INVOICE_COLUMNS).replace(" IS NOT ", " IS DISTINCT FROM "),
            _changed_or_not_to_null(["buyer_user_id", "issued_by_id"]).replace(
                "IS NOT OLD", "IS DISTINCT FROM OLD"
            ),
            f"NOT ({STATUS_ALLOWED})",
        ]
    ),
    "coworking_invoiceline": "TRUE",
    "coworking_payment": " OR ".join(
        [
            _changed(FROZEN_PAYMENT_COLUMNS).replace(" IS NOT ", " IS DISTINCT FROM "),
            _changed_or_not_to_null(["recorded_by_id"]).replace(
                "IS NOT OLD", "IS DISTINCT FROM OLD"
            ),
        ]
    ),
}
POSTGRES = []
POSTGRES_REVERSE = []
for table, condition in POSTGRES_TABLES.items():
    POSTGRES += [
        _postgres_function(f"{table}_refuse_change", condition),
        f"""CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();""",
    ]
    POSTGRES_REVERSE += [
        f"DROP TRIGGER IF EXISTS {table}_frozen ON {table};",
        f"DROP FUNCTION IF EXISTS {table}_refuse_change();",
    ]
POSTGRES += [
    _postgres_function(
        "coworking_invoiceseries_refuse_change", "NEW.last_number < OLD.last_number"
    ).replace("TG_OP = 'DELETE' OR ", ""),
    """CREATE TRIGGER coworking_invoiceseries_forward BEFORE UPDATE ON coworking_invoiceseries
       FOR EACH ROW EXECUTE FUNCTION coworking_invoiceseries_refuse_change();""",
]
POSTGRES_REVERSE += [
    "DROP TRIGGER IF EXISTS coworking_invoiceseries_forward ON coworking_invoiceseries;",
    "DROP FUNCTION IF EXISTS coworking_invoiceseries_refuse_change();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("coworking", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
