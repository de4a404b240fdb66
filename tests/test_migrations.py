"""Every model change comes with its migration."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exit_:  # makemigrations --check exits 1 when something is missing
        pytest.fail(f"Migrations manquantes (code {exit_.code}) :\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()
