"""Demo data: one account per role, fictional names in real communes, idempotent, never in
production."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.accounts.models import Membership, Role, User
from cybercantal.core.demo import (
    ACCOUNTS,
    DEMO_BACKUP_CODES,
    DEMO_PASSWORD,
    PLACES,
    demo_seed,
    opening_periods,
    osm_opening_hours,
)
from cybercantal.core.models import AuditLog
from cybercantal.territory.models import OpeningPeriod, Organisation, Place
from cybercantal.territory.selectors import place_list

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every table of the project and of django-otp."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"core", "territory", "accounts", "otp_totp", "otp_static"}
    }


def test_one_account_per_role(cantal):
    seed()
    demo_users = User.objects.filter(is_demo=True)
    assert demo_users.count() == len(Role) == 13
    for role in Role:
        holders = [u for u in demo_users if role in u.role_codes()]
        if role == Role.RESIDENT:
            # A resident holds no membership (like an account created at a desk).
            assert holders == []
            assert not Membership.objects.filter(user__username="demo-usager").exists()
        else:
            assert len(holders) == 1, role
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(DEMO_PASSWORD)
        assert "(démo)" in user.get_full_name()
        assert user.home_commune is not None


def test_the_resident_has_a_phone_and_no_email(cantal):
    seed()
    resident = User.objects.get(username="demo-usager")
    assert resident.email == ""
    # ARCEP reserves 06 39 98 xx xx for fiction: no real person gets the SMS.
    assert resident.phone.startswith("+336399800")
    assert resident.prefers_sms
    assert resident.created_by.username == "demo-agent"


def test_the_administrator_has_two_factor_devices(cantal):
    seed()
    admin = User.objects.get(username="demo-admin")
    assert admin.has_role(Role.PLATFORM_ADMIN)
    assert not admin.is_staff and not admin.is_superuser  # the role is what counts
    device = TOTPDevice.objects.get(user=admin)
    assert device.confirmed
    assert device.verify_token(f"{totp(device.bin_key):06d}")
    backup = StaticDevice.objects.get(user=admin)
    assert backup.verify_token(DEMO_BACKUP_CODES[0])
    # A used backup code comes back with the next seeding.
    assert backup.token_set.count() == len(DEMO_BACKUP_CODES) - 1
    seed()
    assert sorted(backup.token_set.values_list("token", flat=True)) == sorted(DEMO_BACKUP_CODES)


def test_everything_is_marked_and_named_as_demo(cantal):
    seed()
    for model in (Organisation, Place, User):
        rows = model.objects.all()
        assert rows.exists()
        assert not rows.filter(is_demo=False).exists(), model
    assert all("(démo)" in name for name in Organisation.objects.values_list("name", flat=True))
    assert all("(démo)" in name for name in Place.objects.values_list("name", flat=True))


def test_places_cover_the_territory(cantal):
    seed()
    tiers_lieux = Place.objects.filter(kinds__code="tiers_lieu")
    assert tiers_lieux.count() == 14
    assert tiers_lieux.values("commune").distinct().count() == 14
    for code in ("mediation", "france_services", "telehealth", "care_home", "health_centre"):
        assert Place.objects.filter(kinds__code=code).exists(), code
    for code in ("school", "college", "town_hall"):
        assert Place.objects.filter(kinds__code=code).exists(), code
    assert Organisation.objects.filter(kind="department").count() == 1
    operators = set(tiers_lieux.values_list("organisation__kind", flat=True))
    assert {"association", "cooperative", "commune"} <= operators
    for place in Place.objects.select_related("commune"):
        # Near the commune's point: within about 500 m.
        assert abs(place.latitude - place.commune.latitude) < 0.005
        assert abs(place.longitude - place.commune.longitude) < 0.007
        assert place.postal_code in place.commune.postal_code_list
        assert place.organisation_id is not None


def test_opening_hours_agree_with_the_periods(cantal):
    seed()
    for spec in PLACES:
        place = Place.objects.get(name=spec.name)
        assert place.opening_hours == osm_opening_hours(spec.hours)
        periods = set(place.opening_periods.values_list("weekday", "opens", "closes"))
        assert periods == opening_periods(spec.hours)
    aurillac = Place.objects.get(name="La Fabrique du Bassin (démo)")
    assert aurillac.opening_hours == "Mo-Fr 08:30-18:30; Sa 09:00-12:30"
    assert aurillac.opening_periods.count() == 6
    assert aurillac.connectivity == "fibre" and aurillac.download_mbps == 1000


def test_a_private_teleconsultation_room_is_seen_by_its_staff_only(cantal):
    seed()
    room = Place.objects.get(is_public=False, name__startswith="Salle de téléconsultation")
    nurse = User.objects.get(username="demo-infirmier")
    resident = User.objects.get(username="demo-usager")
    agent = User.objects.get(username="demo-agent")
    assert room in place_list(actor=nurse)
    assert room in place_list(actor=agent)
    assert room not in place_list(actor=resident)
    assert room not in place_list(actor=None)


def test_seeding_twice_changes_nothing(cantal):
    first = seed()
    assert not re.search(r"(?<!\d)0 créées", first)  # "240 créées" is fine
    counts = row_counts()
    updated_at = dict(Place.objects.values_list("pk", "updated_at"))
    passwords = dict(User.objects.values_list("pk", "password"))

    report = demo_seed()

    assert report.created.total() == 0
    assert report.updated.total() == 0
    assert row_counts() == counts
    assert dict(Place.objects.values_list("pk", "updated_at")) == updated_at
    assert dict(User.objects.values_list("pk", "password")) == passwords
    assert "0 créées, 0 mises à jour" in seed()


def test_seeding_again_repairs_what_a_tester_changed(cantal):
    seed()
    user = User.objects.get(username="demo-mediateur")
    user.set_password("autre-chose-123")
    user.save()
    place = Place.objects.get(name="La Buronnerie (démo)")
    place.opening_periods.all().delete()
    place.kinds.clear()
    audit_rows = AuditLog.objects.filter(action="demo.seed").count()

    report = demo_seed()

    assert report.updated["accounts.User"] == 1
    assert report.updated["territory.Place"] == 1
    assert User.objects.get(username="demo-mediateur").check_password(DEMO_PASSWORD)
    assert OpeningPeriod.objects.filter(place=place).exists()
    assert list(place.kinds.values_list("code", flat=True)) == ["tiers_lieu"]
    assert AuditLog.objects.filter(action="demo.seed").count() == audit_rows + 1


def test_refused_when_demo_data_is_not_allowed(cantal, settings):
    settings.CYBERCANTAL_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="interdites"):
        seed()
    with pytest.raises(CommandError, match="interdites"):
        call_command("demo_accounts", stdout=StringIO())
    assert not User.objects.exists()
    assert not Organisation.objects.exists()


def test_refused_without_the_territory():
    with pytest.raises(CommandError, match="load_territory 15"):
        seed()
    assert not User.objects.exists()


def test_demo_accounts_prints_the_table_and_the_second_factor(cantal):
    seed()
    out = StringIO()
    call_command("demo_accounts", "--port", "8103", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8103/" in text
    for account in ACCOUNTS:
        line = next(line for line in text.splitlines() if f" {account.username} " in line)
        assert str(Role(account.role).label) in line
        assert DEMO_PASSWORD in line
    assert "otpauth://totp/" in text
    for code in DEMO_BACKUP_CODES:
        assert code in text


def test_demo_accounts_asks_for_the_seed_first(cantal):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("demo_accounts", stdout=StringIO())


def test_the_readme_lists_the_demo_accounts():
    readme = README.read_text(encoding="utf-8")
    assert DEMO_PASSWORD in readme
    for account in ACCOUNTS:
        assert f"`{account.username}`" in readme, account.username


def test_roles_added_to_a_demo_account_are_taken_back(cantal):
    seed()
    resident = User.objects.get(username="demo-usager")
    Membership.objects.create(
        user=resident, organisation=Organisation.objects.first(), role=Role.DEPARTMENT_AGENT
    )

    report = demo_seed()

    assert report.removed["accounts.Membership"] == 1
    assert not Membership.objects.filter(user=resident).exists()


@pytest.mark.parametrize("identifier", ["demo-usager", "06 39 98 00 01"])
def test_the_resident_receives_a_login_code_by_sms(
    cantal, sms_outbox, django_capture_on_commit_callbacks, identifier
):
    """The phone-only account works: a login code goes to the fictional mobile number."""
    from cybercantal.accounts.services import one_time_code_request

    seed()
    with django_capture_on_commit_callbacks(execute=True):
        one_time_code_request(identifier=identifier)

    assert [message.to for message in sms_outbox] == ["+33639980001"]
