"""The pages of the people a structure follows: who reaches them (and who gets a 403 or a 404),
the search, correcting a record with French refusals, merging a duplicate (reports and
walk-ins moved, mandates kept on their record and shown), erasing a person's identity
(refused while a mandate is in force) and what the right of access exports."""

import datetime as dt
import html
import json

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingRuleError
from cybercantal.booking.services import PersonDetails
from cybercantal.core.models import AuditLog
from cybercantal.mediation.models import Activity, Beneficiary, WorkshopWalkIn
from cybercantal.mediation.selectors.dashboard import activity_dashboard
from cybercantal.mediation.services.activities import (
    activity_record,
    beneficiary_create,
    beneficiary_merge,
)
from cybercantal.mediation.services.mandates import mandate_create, mandate_revoke, mandate_use
from cybercantal.mediation.services.workshops import workshop_create, workshop_register
from tests.accounts.factories import MembershipFactory, UserFactory, force_login_verified
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

PHONE = "06 39 98 00 01"
E164 = "+33639980001"
LOGIN = resolve_url(settings.LOGIN_URL)


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


def verified(user):
    """As django-otp's middleware leaves request.user after a second-factor check."""
    user.is_verified = lambda: True
    return user


@pytest.fixture
def structure():
    return OrganisationFactory(name="Espace numérique de Riom-ès-Montagnes")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def commune():
    return CommuneFactory(name="Saint-Étienne-de-Chomeil", insee_code="99201")


def new_person(mediator, structure, **fields):
    values = {"consent": True, "first_name": "Louise", "phone": PHONE, "birth_year": 1948}
    return beneficiary_create(actor=mediator, organisation=structure, **(values | fields))


def report(mediator, structure, person, **fields):
    values = {
        "kind": "individuel",
        "day": timezone.localdate(),
        "duration_minutes": 45,
        "place_type": "distance",
        "themes": ["courriel", "social"],
        "beneficiaries": [person],
    }
    return activity_record(actor=mediator, organisation=structure, **(values | fields))


def give_mandate(mediator, structure, person, **fields):
    values = {
        "areas": ["argent", "logement"],
        "duration": "6m",
        "consent_method": "distance",
        "remote_consent_confirmed": True,
        "consent_note": "Par téléphone, le 3 mars",
    }
    return mandate_create(
        actor=verified(mediator), organisation=structure, beneficiary=person, **(values | fields)
    )


@pytest.fixture
def person(mediator, structure, commune):
    person = new_person(mediator, structure, commune=commune)
    report(mediator, structure, person)
    return person


@pytest.fixture
def duplicate(mediator, structure):
    """The same person, recorded again by a colleague: same phone, no commune."""
    return new_person(mediator, structure, first_name="Louise B.", birth_year=None)


def person_urls(person, duplicate):
    return {
        "detail": reverse("mediation:beneficiary_detail", args=[person.pk]),
        "edit": reverse("mediation:beneficiary_edit", args=[person.pk]),
        "merge": reverse("mediation:beneficiary_merge", args=[person.pk, duplicate.pk]),
        "json": reverse("mediation:beneficiary_data_json", args=[person.pk]),
        "data": reverse("mediation:beneficiary_data", args=[person.pk]),
        "erase": reverse("mediation:beneficiary_erase", args=[person.pk]),
    }


LIST = reverse("mediation:beneficiaries")
PAGES = ["detail", "edit", "merge", "json", "data", "erase"]
FORMS = ["edit", "merge", "erase"]  # the others answer GET only (405 otherwise)


# --- Who reaches the pages -------------------------------------------------------------------


def test_the_structures_mediator_reaches_every_page(client, mediator, person, duplicate):
    client.force_login(mediator)
    assert client.get(LIST).status_code == 200
    for name, url in person_urls(person, duplicate).items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert "Louise" in response.content.decode(), name


def test_the_nav_leads_to_the_people(client, mediator, person):
    client.force_login(mediator)
    page = client.get(reverse("mediation:activities")).content.decode()
    assert f'href="{LIST}"' in page and "Personnes accompagnées" in page
    # The reports' list links each person to their sheet.
    assert reverse("mediation:beneficiary_detail", args=[person.pk]) in page


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, person, duplicate, page):
    url = person_urls(person, duplicate)[page]
    responses = [client.get(url), *([client.post(url, {})] if page in FORMS else [])]
    for response in responses:
        assert response.status_code == 302
        assert response.url.startswith(LOGIN)
    assert client.get(LIST).url.startswith(LOGIN)
    assert client.post(person_urls(person, duplicate)["json"]).status_code == 405


@pytest.mark.parametrize("page", PAGES)
def test_a_resident_is_refused(client, person, duplicate, page):
    resident = UserFactory()
    force_login_verified(client, resident)
    url = person_urls(person, duplicate)[page]
    assert client.get(url).status_code == 403
    if page in FORMS:
        assert client.post(url, {"first_name": "X", "consent": "on"}).status_code == 403
    assert client.get(LIST).status_code == 403
    person.refresh_from_db()
    assert person.first_name == "Louise" and not person.is_anonymous


@pytest.mark.parametrize("page", PAGES)
def test_another_structures_mediator_gets_404_and_changes_nothing(client, person, duplicate, page):
    other = mediator_of(OrganisationFactory())
    force_login_verified(client, other)
    before = AuditLog.objects.count()
    url = person_urls(person, duplicate)[page]
    assert client.get(url).status_code == 404
    if page in FORMS:
        response = client.post(
            url, {"first_name": "Autre", "phone": "", "age_band": "inconnu", "consent": "on"}
        )
        assert response.status_code == 404
    person.refresh_from_db()
    duplicate.refresh_from_db()
    assert (person.first_name, person.phone, person.is_anonymous) == ("Louise", E164, False)
    assert duplicate.merged_into_id is None
    assert AuditLog.objects.count() == before  # nothing seen, nothing written
    # Their list does not show the person either.
    assert "Louise" not in client.get(LIST).content.decode()


def test_every_view_of_a_sheet_or_export_is_audited(client, mediator, person, duplicate):
    force_login_verified(client, mediator)
    urls = person_urls(person, duplicate)
    for page in ("detail", "json", "data"):
        client.get(urls[page])
    rows = AuditLog.objects.filter(target_type="mediation.beneficiary", target_id=str(person.pk))
    assert rows.filter(action="mediation.beneficiary_view", data__page="fiche").count() == 1
    exports = rows.filter(action="mediation.beneficiary_export")
    assert sorted(row.data["format"] for row in exports) == ["json", "page"]
    assert all(row.actor_id == mediator.pk for row in rows)


# --- The list and its search -----------------------------------------------------------------


def test_search_by_first_name_phone_or_commune(client, mediator, structure, person, commune):
    other = new_person(mediator, structure, first_name="Marcel", phone="06 39 98 00 02")
    anonymous = new_person(mediator, structure, is_anonymous=True, consent=False)
    elsewhere = OrganisationFactory()
    new_person(mediator_of(elsewhere), elsewhere, first_name="Louisette")
    client.force_login(mediator)

    def found(query):
        response = client.get(LIST, {"q": query})
        assert response.status_code == 200
        return {p.pk for p in response.context["page"].object_list}

    assert found("") == {person.pk, other.pk, anonymous.pk}
    assert found("louise") == {person.pk}
    assert found("06 39 98 00 02") == {other.pk}
    assert found("+33 6 39 98 00 01") == {person.pk}
    assert found("saint etienne") == {person.pk}  # accents and hyphens aside
    assert found(commune.insee_code) == {person.pk}
    assert found("Personne-introuvable") == set()
    assert "Aucune personne ne correspond" in client.get(LIST, {"q": "zzz"}).content.decode()


def test_merged_records_are_not_listed_and_the_list_is_paginated(
    client, mediator, structure, person, duplicate
):
    beneficiary_merge(actor=mediator, keep=person, duplicate=duplicate)
    Beneficiary.objects.bulk_create(
        Beneficiary(organisation=structure, first_name=f"Zoé {n:02d}", consent_at=timezone.now())
        for n in range(50)
    )
    client.force_login(mediator)
    first = client.get(LIST).context["page"]
    assert first.paginator.count == 51 and len(first.object_list) == 50
    second = client.get(LIST, {"page": 2}).context["page"]
    shown = {p.pk for p in first.object_list} | {p.pk for p in second.object_list}
    assert person.pk in shown and duplicate.pk not in shown
    assert client.get(LIST, {"q": "x" * 101}).status_code == 400


# --- Correcting a record ---------------------------------------------------------------------


def edit_form(**changes):
    data = {
        "first_name": "Louise",
        "phone": PHONE,
        "birth_year": "1948",
        "age_band": "70_plus",
        "gender": "femme",
        "status": "retraite",
        "commune": "",
    }
    return data | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "04 71 00 00 00"}, "portable"),
        ({"phone": "12"}, "pas un numéro de téléphone valide"),
        ({"has_no_phone": "on"}, "Un numéro est donné alors que « pas de téléphone »"),
        ({"birth_year": "1800"}, "Année de naissance invalide"),
        ({"birth_year": "2999"}, "Année de naissance invalide"),
        ({"birth_year": "mil neuf cent"}, "Indiquez une année en chiffres"),
        ({"commune": "Nulle-Part-sur-Mer"}, "Commune inconnue"),
        ({"gender": "autre"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(
    client, mediator, person, changes, message
):
    client.force_login(mediator)
    before = Beneficiary.objects.values().get(pk=person.pk)
    url = reverse("mediation:beneficiary_edit", args=[person.pk])
    response = client.post(url, edit_form(**changes))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Le formulaire contient des erreurs" in page
    assert message in page
    assert Beneficiary.objects.values().get(pk=person.pk) == before
    assert not AuditLog.objects.filter(action="mediation.beneficiary_update").exists()


def test_a_named_record_needs_the_persons_consent(client, mediator, structure):
    anonymous = new_person(mediator, structure, is_anonymous=True, consent=False)
    client.force_login(mediator)
    url = reverse("mediation:beneficiary_edit", args=[anonymous.pk])
    response = client.post(url, edit_form())
    assert response.status_code == 400
    assert "Recueillez l'accord de la personne" in html.unescape(response.content.decode())
    anonymous.refresh_from_db()
    assert anonymous.is_anonymous and anonymous.first_name == "" and anonymous.consent_at is None
    assert client.post(url, edit_form(consent="on")).status_code == 302
    anonymous.refresh_from_db()
    assert not anonymous.is_anonymous and anonymous.first_name == "Louise"
    assert anonymous.consent_at is not None


def test_a_correction_is_saved_and_consent_recorded_again(client, mediator, person, commune):
    first_consent = person.consent_at
    client.force_login(mediator)
    url = reverse("mediation:beneficiary_edit", args=[person.pk])
    # Without a new consent, the one recorded stays.
    response = client.post(url, edit_form(phone="0639980003", commune=commune.name))
    assert response.status_code == 302
    assert response.url == reverse("mediation:beneficiary_detail", args=[person.pk])
    person.refresh_from_db()
    assert (person.phone, person.gender, person.commune) == ("+33639980003", "femme", commune)
    assert person.consent_at == first_consent
    row = AuditLog.objects.get(action="mediation.beneficiary_update")
    assert set(row.data["changed"]) == {"phone", "age_band", "gender", "status"}
    assert "0639980003" not in json.dumps(row.data)  # names of fields, never values
    # Recording consent again moves its date.
    assert client.post(url, edit_form(consent="on")).status_code == 302
    person.refresh_from_db()
    assert person.consent_at > first_consent
    assert person.commune is None


def test_a_person_who_gave_a_mandate_keeps_their_first_name(client, mediator, structure, person):
    give_mandate(mediator, structure, person)
    client.force_login(mediator)
    url = reverse("mediation:beneficiary_edit", args=[person.pk])
    for changes in ({"first_name": "Louisa"}, {"is_anonymous": "on"}):
        response = client.post(url, edit_form(**changes))
        assert response.status_code == 400
        assert "a donné un mandat" in html.unescape(response.content.decode())
    person.refresh_from_db()
    assert person.first_name == "Louise" and not person.is_anonymous
    # The rest of the record can still be corrected.
    assert client.post(url, edit_form(status="en_emploi")).status_code == 302


# --- Merging a duplicate ---------------------------------------------------------------------


@pytest.fixture
def session(mediator, structure):
    start = timezone.localtime() + dt.timedelta(days=3)
    start = start.replace(hour=14, minute=0, second=0, microsecond=0)
    return workshop_create(
        actor=mediator,
        organisation=structure,
        title="Premiers pas sur la tablette",
        theme="equipement",
        level="debutant",
        place=PlaceFactory(commune=CommuneFactory(latitude=45.28, longitude=2.66)),
        start=start,
        end=start + dt.timedelta(hours=2),
        capacity=6,
    )


def test_merging_through_the_pages(client, mediator, structure, person, duplicate, session):
    moved = report(mediator, structure, duplicate, themes=["banque_achats"], duration_minutes=30)
    walk_in = WorkshopWalkIn.objects.create(
        session=session, person_name="Louise B.", person_phone=E164, beneficiary=duplicate
    )
    mandate = give_mandate(mediator, structure, duplicate)
    client.force_login(mediator)
    sheet = client.get(reverse("mediation:beneficiary_detail", args=[person.pk]))
    merge_url = reverse("mediation:beneficiary_merge", args=[person.pk, duplicate.pk])
    assert "Doublons possibles" in sheet.content.decode()
    assert merge_url in sheet.content.decode()

    confirm = client.get(merge_url)
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Louise B." in page and "Fiche gardée" in page and "Après la fusion" in page
    assert confirm.context["totals"] == {"activities": 2, "mandates": 1, "workshops": 1}
    swap = reverse("mediation:beneficiary_merge", args=[duplicate.pk, person.pk])
    assert swap in page and client.get(swap).status_code == 200

    response = client.post(merge_url)
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == person.pk
    assert list(moved.beneficiaries.all()) == [person]
    walk_in.refresh_from_db()
    assert walk_in.beneficiary_id == person.pk
    mandate.refresh_from_db()
    assert mandate.beneficiary_id == duplicate.pk  # its attestation names this record
    # The kept record's sheet shows everything, the mandate included.
    sheet = client.get(reverse("mediation:beneficiary_detail", args=[person.pk]))
    page = sheet.content.decode()
    assert {a.pk for a in sheet.context["sheet"].activities} == set(
        Activity.objects.filter(organisation=structure).values_list("pk", flat=True)
    )
    assert len(sheet.context["sheet"].activities) == 2
    assert mandate.reference in page
    assert reverse("mediation:mandate_detail", args=[mandate.pk]) in page
    assert "Premiers pas sur la tablette" in page
    # The duplicate's address leads to the record kept.
    old = client.get(reverse("mediation:beneficiary_detail", args=[duplicate.pk]))
    assert old.status_code == 302 and old.url == reverse(
        "mediation:beneficiary_detail", args=[person.pk]
    )


def test_only_a_proposed_duplicate_can_be_merged(client, mediator, structure, person):
    stranger = new_person(mediator, structure, first_name="Marcel", phone="06 39 98 00 04")
    client.force_login(mediator)
    url = reverse("mediation:beneficiary_merge", args=[person.pk, stranger.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    stranger.refresh_from_db()
    assert stranger.merged_into_id is None


def test_a_merge_fills_what_the_kept_record_lacks_and_moves_registrations(
    mediator, structure, duplicate, session
):
    keep = new_person(mediator, structure, birth_year=None, has_no_phone=True, phone="")
    duplicate.gender = "femme"
    duplicate.age_band = "70_plus"
    duplicate.save()
    merged = beneficiary_merge(actor=mediator, keep=keep, duplicate=duplicate)
    assert (merged.phone, merged.has_no_phone) == (E164, False)
    assert (merged.gender, merged.age_band, merged.status) == ("femme", "70_plus", "inconnu")
    anonymous = new_person(mediator, structure, is_anonymous=True, consent=False)
    named = new_person(mediator, structure, first_name="Jeanne", phone="06 39 98 00 03")
    with pytest.raises(BookingRuleError, match="fiche anonyme ne reçoit pas de prénom"):
        beneficiary_merge(actor=mediator, keep=anonymous, duplicate=named)


def test_a_registration_by_phone_shows_on_the_sheet(client, mediator, person, session):
    registration = workshop_register(
        actor=mediator, session=session, person=PersonDetails("Louise", PHONE)
    )
    assert registration.booking is not None
    client.force_login(mediator)
    sheet = client.get(reverse("mediation:beneficiary_detail", args=[person.pk])).context["sheet"]
    assert [(row.session, row.booking) for row in sheet.workshops] == [
        (session, registration.booking)
    ]


# --- Erasing a person's identity -------------------------------------------------------------


def test_erasure_is_refused_while_a_mandate_is_in_force(client, mediator, structure, person):
    mandate = give_mandate(mediator, structure, person)
    client.force_login(mediator)
    url = reverse("mediation:beneficiary_erase", args=[person.pk])
    page = html.unescape(client.get(url).content.decode())
    assert mandate.reference in page and "n'est pas possible pour l'instant" in page
    response = client.post(url)
    assert response.status_code == 400
    assert "ne peuvent pas être effacées tant que son mandat" in html.unescape(
        response.content.decode()
    )
    person.refresh_from_db()
    assert person.first_name == "Louise" and not person.is_anonymous
    assert not AuditLog.objects.filter(action="mediation.beneficiary_erase").exists()


def test_erasure_anonymises_and_keeps_the_counted_activities(
    client, mediator, structure, person, duplicate, session
):
    year = timezone.localdate().year
    before = activity_dashboard(
        actor=mediator, year=year, scope="structure", organisation=structure
    )
    mandate = give_mandate(mediator, structure, person)
    mandate_revoke(actor=verified(mediator), mandate=mandate)  # no longer in force
    beneficiary_merge(actor=mediator, keep=person, duplicate=duplicate)
    walk_in = WorkshopWalkIn.objects.create(
        session=session, person_name="Louise", person_phone=E164, beneficiary=person
    )
    client.force_login(mediator)
    response = client.post(reverse("mediation:beneficiary_erase", args=[person.pk]))
    assert response.status_code == 302
    for record in (person, duplicate):
        record.refresh_from_db()
        assert record.is_anonymous
        assert (record.first_name, record.phone, record.birth_year) == ("", "", None)
        assert record.consent_at is None
    assert person.age_band == "70_plus"  # from the birth year, before it went
    walk_in.refresh_from_db()
    assert (walk_in.person_name, walk_in.person_phone) == ("", "")
    assert Activity.objects.filter(beneficiaries=person).count() == 1
    after = activity_dashboard(actor=mediator, year=year, scope="structure", organisation=structure)
    assert after.people.total == before.people.total == 1
    assert (after.people.named, after.people.anonymous) == (0, 1)
    row = AuditLog.objects.get(action="mediation.beneficiary_erase")
    assert "Louise" not in row.target_repr and row.data["records"] == 2
    assert "Personne anonyme" in client.get(response.url).content.decode()


# --- The right of access ---------------------------------------------------------------------


def test_the_export_asks_for_the_second_factor_when_there_is_a_mandate(
    client, mediator, structure, person
):
    give_mandate(mediator, structure, person)
    client.force_login(mediator)
    for name in ("beneficiary_data_json", "beneficiary_data"):
        response = client.get(reverse(f"mediation:{name}", args=[person.pk]))
        assert response.status_code == 302 and "next=" in response.url
    assert not AuditLog.objects.filter(action="mediation.beneficiary_export").exists()


def test_the_export_holds_the_record_reports_mandates_and_journal(
    client, mediator, structure, person, duplicate
):
    mandate = give_mandate(mediator, structure, duplicate)
    mandate_revoke_area = mandate.areas.get(area="logement")
    mandate_revoke_area.revoked_at = timezone.now()
    mandate_revoke_area.save()
    mandate_use(
        actor=verified(mediator), mandate=mandate, area="argent", procedure="Déclaration de revenus"
    )
    beneficiary_merge(actor=mediator, keep=person, duplicate=duplicate)
    force_login_verified(client, mediator)
    response = client.get(reverse("mediation:beneficiary_data_json", args=[person.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["structure"] == structure.name
    assert data["person"]["first_name"] == "Louise" and data["person"]["phone"] == E164
    assert data["person"]["consent_at"] is not None
    assert [r["id"] for r in data["merged_records"]] == [duplicate.pk]
    assert data["activities"][0]["duration_minutes"] == 45
    assert {t["code"] for t in data["activities"][0]["themes"]} == {"courriel", "social"}
    [exported] = data["mandates"]
    assert exported["reference"] == mandate.reference and exported["record_id"] == duplicate.pk
    assert exported["starts_on"] == mandate.starts_on.isoformat()
    assert exported["consent"]["note"] == "Par téléphone, le 3 mars"
    areas = {area["code"]: area["revoked_at"] for area in exported["areas"]}
    assert areas["argent"] is None and areas["logement"] is not None
    [use] = exported["uses"]
    assert use["procedure"] == "Déclaration de revenus" and use["area"]
    assert {row["action"] for row in data["history"]} >= {
        "mediation.beneficiary_create",
        "mediation.beneficiary_merge",
    }
    # The printable page says the same.
    page = client.get(reverse("mediation:beneficiary_data", args=[person.pk])).content.decode()
    assert mandate.reference in page and "Déclaration de revenus" in page
    assert "révoqué le" in page and "Vos accompagnements" in page
