"""The admin is for platform administrators with a verified second factor, and nobody else."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from cybercantal.accounts.models import Role, User
from cybercantal.core.admin_site import CyberCantalAdminSite
from cybercantal.core.audit import audit_log
from cybercantal.core.models import AuditLog
from cybercantal.territory.models import Commune, Organisation, Place
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.core.conftest import login

pytestmark = pytest.mark.django_db


def test_the_admin_site_is_ours(settings):
    settings.CYBERCANTAL_BRANDING = {**settings.CYBERCANTAL_BRANDING, "platform_name": "CyberLot"}
    assert isinstance(admin.site, CyberCantalAdminSite)
    assert admin.site.site_header == "Administration — CyberLot"


def test_anonymous_visitor_is_sent_to_the_platform_login(client):
    response = client.get("/admin/", follow=True)
    login_url = reverse("accounts:login")
    assert response.redirect_chain[-1][0].startswith(login_url)
    assert "next=/admin/" in response.redirect_chain[-1][0]


@pytest.mark.parametrize(
    "role", [None, Role.DEPARTMENT_AGENT, Role.MEDIATOR, Role.ELECTED_OFFICIAL]
)
def test_signed_in_people_without_the_role_are_refused(client, role):
    user = UserFactory(roles=[role] if role else [])
    login(client, user)
    assert client.get("/admin/").status_code == 302
    refused = client.get("/admin/login/")
    assert refused.status_code == 403
    assert "Accès refusé" in refused.content.decode()
    assert client.get("/admin/territory/place/").status_code == 302


def test_django_flags_grant_nothing(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    login(client, user)
    assert client.get("/admin/login/").status_code == 403


def test_platform_admin_without_second_factor_is_refused(platform_admin):
    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    platform_admin.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    platform_admin.is_verified = lambda: True
    assert admin.site.has_permission(request)
    platform_admin.is_active = False
    assert not admin.site.has_permission(request)


def test_unverified_platform_admin_is_sent_to_the_second_factor(client, platform_admin):
    login(client, platform_admin, verified=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_verify"))


ROWS_MADE_BY_TRAFFIC = {
    "core.Notification",
    "core.PeriodicJobRun",
    "accounts.OneTimeLogin",
    "accounts.ApiToken",
    "accounts.PersonalDataRequest",
    "booking.Booking",
    "booking.Closure",
    "booking.CalendarFeedToken",
    "booking.WaitingListEntry",
    # Until the network's demo year of activity exists, members' passes, check-ins and invoices
    # come from traffic only.
    "coworking.Pass",
    "coworking.CreditMovement",
    "coworking.CheckIn",
    "coworking.DeskBooking",
    "coworking.InvoiceSeries",
    "coworking.Invoice",
    "coworking.InvoiceLine",
    "coworking.Payment",
    "coworking.MemberProfile",
    "django_tasks_database.DBTaskResult",
}


def platform_admin_client_user(client):
    return User.objects.get(pk=client.session["_auth_user_id"])


def test_platform_admin_opens_every_admin_page(platform_admin_client, cantal):
    """Index, then each registered model's list, add form and a change form: no 500, no
    model left out for lack of a Django permission."""
    client = platform_admin_client
    Place.objects.create(
        name="Lieu test",
        address="1 place de l'Église",
        postal_code="15000",
        commune=Commune.objects.get(insee_code="15014"),
        latitude=44.92,
        longitude=2.44,
    )
    # The demo data gives most models a row, so that their change form is opened too.
    call_command("seed_demo", stdout=StringIO())
    audit_log(actor=platform_admin_client_user(client), action="test.admin")
    without_rows = set()
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Administration — CyberCantal" in index.text
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert changelist in index.text, f"{opts.label} manque dans l'index"
        assert client.get(changelist).status_code == 200, opts.label
        request = client.get(changelist).wsgi_request
        if model_admin.has_add_permission(request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(add).status_code == 200, opts.label
        if (obj := model._default_manager.first()) is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, opts.label
        else:
            without_rows.add(opts.label)
    # The demo data leaves empty only what real traffic creates.
    assert without_rows <= ROWS_MADE_BY_TRAFFIC, without_rows - ROWS_MADE_BY_TRAFFIC


@pytest.mark.parametrize(
    ("query", "expected"),
    [("VIC SUR CERE", "Vic-sur-Cère"), ("15258", "Vic-sur-Cère"), ("15800", "Vic-sur-Cère")],
)
def test_commune_search_by_name_insee_or_postal_code(
    platform_admin_client, cantal, query, expected
):
    response = platform_admin_client.get("/admin/territory/commune/", {"q": query})
    names = [commune.name for commune in response.context["cl"].result_list]
    assert expected in names


def test_commune_outline_is_not_in_the_form(platform_admin_client, cantal):
    commune = Commune.objects.get(insee_code="15014")
    response = platform_admin_client.get(f"/admin/territory/commune/{commune.pk}/change/")
    assert "outline" not in response.context["adminform"].form.fields
    assert '"coordinates"' not in response.text


def test_organisation_with_invalid_siret_is_refused_in_french(platform_admin_client):
    response = platform_admin_client.post(
        "/admin/territory/organisation/add/",
        {"name": "Association test", "kind": "association", "siret": "12345678901234"},
    )
    assert response.status_code == 200
    assert "n&#x27;est pas valide" in response.text or "n'est pas valide" in response.text
    assert not Organisation.objects.filter(name="Association test").exists()


def test_admin_changes_are_audited(platform_admin_client, platform_admin):
    response = platform_admin_client.post(
        "/admin/territory/organisation/add/",
        {"name": "Association test", "kind": "association", "siret": "73282932000074"},
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Association test")
    entry = AuditLog.objects.get(action="admin.add")
    assert entry.actor == platform_admin
    assert entry.target_id == str(organisation.pk)


def test_user_admin_normalises_the_phone_and_gives_roles(platform_admin_client, platform_admin):
    organisation = OrganisationFactory()
    response = platform_admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "nouvelle-personne",
            "first_name": "Anne",
            "last_name": "Test",
            "email": "",
            "phone": "06 12 34 56 78",
            "usable_password": "false",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-organisation": organisation.pk,
            "memberships-0-role": Role.MEDIATOR,
            "memberships-0-is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(username="nouvelle-personne")
    assert person.phone == "+33612345678"
    assert person.email == ""
    assert person.created_by == platform_admin
    assert not person.has_usable_password()
    assert person.has_role(Role.MEDIATOR)


def test_user_admin_refuses_a_phone_already_used(platform_admin_client):
    UserFactory(phone="+33612345679")
    response = platform_admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "doublon",
            "phone": "06 12 34 56 79",
            "usable_password": "false",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "déjà utilisé" in response.text
    assert not User.objects.filter(username="doublon").exists()


def test_secrets_are_never_shown(platform_admin_client, platform_admin):
    device = platform_admin.totpdevice_set.get()
    response = platform_admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert response.status_code == 200
    assert device.key not in response.text
    # django-otp's QR code views are gone with its admin.
    assert platform_admin_client.get(
        f"/admin/otp_totp/totpdevice/{device.pk}/config/"
    ).status_code in (302, 404)
