"""The priority zones (zones d'intervention prioritaire): the dated table the eligibility helper
reads on the consultation's day, the service that records a zoning from a date (closing the
rows of the communes leaving, opening rows for those entering, atomically), and the staff
pages; everyone but the telehealth staff is refused, and bad input changes nothing."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.eligibility import Status, assess_consultation
from cybercantal.telehealth.models import PriorityZoneCommune
from cybercantal.telehealth.selectors.zoning import (
    communes_from_text,
    latest_zoning_start,
    priority_zone_lookup,
    zone_communes_on,
    zoning_history,
)
from cybercantal.telehealth.services import zoning as zoning_services
from cybercantal.telehealth.services.zoning import zoning_save
from cybercantal.territory.models import Commune, Organisation
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import make_consultation, make_patient, make_site, staff_user
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db

D = dt.date
DAY = dt.timedelta(days=1)
LIST_URL = reverse("telehealth:zoning")
EDIT_URL = reverse("telehealth:zoning_edit")
IMPORT_URL = reverse("telehealth:zoning_import")


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def commune(name: str) -> Commune:
    return Commune.objects.get(department_code="15", name=name)


def snapshot():
    return sorted(
        PriorityZoneCommune.objects.values_list(
            "commune__insee_code", "valid_from", "valid_until", "source"
        )
    )


@pytest.fixture
def staff():
    return staff_user()


def save(actor, names, start, source="Arrêté ARS du 01/01/2026"):
    return zoning_save(
        actor=actor, communes=[commune(n) for n in names], valid_from=start, source=source
    )


# --- the dated lookup ----------------------------------------------------------------------


def test_no_row_at_all_means_unknown():
    lookup = priority_zone_lookup()
    assert lookup.known is False
    assert lookup.in_zone(CommuneFactory().pk, D(2026, 3, 2)) is None


def test_the_lookup_reads_the_zoning_in_force_on_the_day(cantal, staff):
    aurillac, mauriac, flour = commune("Aurillac"), commune("Mauriac"), commune("Saint-Flour")
    save(staff, ["Aurillac", "Mauriac"], D(2025, 1, 1))
    saved = save(staff, ["Mauriac", "Saint-Flour"], D(2026, 3, 1), source="Arrêté 2026")
    assert (saved.entered, saved.left, saved.stayed) == (
        (flour.insee_code,),
        (aurillac.insee_code,),
        1,
    )
    lookup = priority_zone_lookup()
    change = D(2026, 3, 1)
    assert lookup.in_zone(aurillac.pk, change - DAY) is True
    assert lookup.in_zone(aurillac.pk, change) is False
    assert lookup.in_zone(flour.pk, change - DAY) is False
    assert lookup.in_zone(flour.pk, change) is True
    assert lookup.in_zone(mauriac.pk, D(2024, 12, 31)) is False
    assert lookup.in_zone(mauriac.pk, D(2030, 1, 1)) is True
    # History kept: Aurillac's row closed the day before, Mauriac's row untouched.
    assert snapshot() == sorted(
        [
            (aurillac.insee_code, D(2025, 1, 1), D(2026, 2, 28), "Arrêté ARS du 01/01/2026"),
            (mauriac.insee_code, D(2025, 1, 1), None, "Arrêté ARS du 01/01/2026"),
            (flour.insee_code, change, None, "Arrêté 2026"),
        ]
    )
    assert latest_zoning_start() == change
    history = zoning_history(actor=staff)
    assert [(h.start, h.entered, h.left) for h in history] == [
        (change, ("Saint-Flour",), ("Aurillac",)),
        (D(2025, 1, 1), ("Aurillac", "Mauriac"), ()),
    ]
    assert [row.commune.name for row in zone_communes_on(actor=staff, day=change)] == [
        "Mauriac",
        "Saint-Flour",
    ]


def test_a_zoning_that_only_removes_communes_moves_the_latest_start(cantal, staff):
    save(staff, ["Aurillac", "Mauriac"], D(2025, 1, 1))
    save(staff, ["Mauriac"], D(2026, 1, 1))
    assert latest_zoning_start() == D(2026, 1, 1)
    with pytest.raises(BookingRuleError, match="01/01/2026"):
        save(staff, ["Aurillac"], D(2025, 6, 1))


def test_the_same_start_corrects_the_latest_zoning(cantal, staff):
    save(staff, ["Aurillac", "Mauriac"], D(2025, 1, 1), source="Arrêté 2025")
    save(staff, ["Mauriac", "Saint-Flour"], D(2026, 1, 1), source="Arrêté 2026")
    # The 2026 arrêté in fact kept Aurillac and did not bring Saint-Flour in.
    save(staff, ["Aurillac", "Mauriac", "Ytrac"], D(2026, 1, 1), source="Arrêté 2026 rectifié")
    assert snapshot() == sorted(
        [
            (commune("Aurillac").insee_code, D(2025, 1, 1), None, "Arrêté 2025"),
            (commune("Mauriac").insee_code, D(2025, 1, 1), None, "Arrêté 2025"),
            (commune("Ytrac").insee_code, D(2026, 1, 1), None, "Arrêté 2026 rectifié"),
        ]
    )


def test_names_codes_and_both_are_read_and_the_rest_listed(cantal):
    result = communes_from_text(
        "saint flour\n15014; Mauriac (15120), MURAT\nParis\n63113\n\n  Vic-sur-Cère  "
    )
    assert [c.name for c in result.communes] == [
        "Aurillac",
        "Mauriac",
        "Murat",
        "Saint-Flour",
        "Vic-sur-Cère",
    ]
    assert result.unknown == ("Paris", "63113")
    assert result.ambiguous == ()


# --- the eligibility helper ----------------------------------------------------------------


def _outside_patient_consultation():
    organisation = OrganisationFactory(kind=Organisation.Kind.CARE_HOME)
    site = make_site(place=PlaceFactory(commune=commune("Aurillac"), organisation=organisation))
    patient = make_patient(site, lives_in_territory=False)
    return make_consultation(
        site=site, patient=patient, referred_by_attending_doctor=True, is_emergency=False
    )


@pytest.mark.parametrize(
    ("starts_after_the_day", "expected"), [(0, Status.EXEMPTED), (1, Status.NOT_MET)]
)
def test_a_patient_outside_the_territory_in_a_zoned_commune(
    cantal, staff, starts_after_the_day, expected
):
    consultation = _outside_patient_consultation()
    day = timezone.localdate(consultation.scheduled_start)
    save(staff, ["Mauriac"], day - 30 * DAY)
    save(staff, ["Aurillac", "Mauriac"], day + starts_after_the_day * DAY)
    territory = {c.key: c for c in assess_consultation(consultation).conditions}["territory"]
    assert territory.status == expected
    if expected == Status.EXEMPTED:
        assert "zone d'intervention prioritaire" in territory.explanation
    else:
        # Known zoning, commune out of it that day: no invitation to check the zone.
        assert "n'est pas renseignée" not in territory.explanation


def test_without_any_zoning_the_helper_says_it_does_not_know(cantal):
    consultation = _outside_patient_consultation()
    territory = {c.key: c for c in assess_consultation(consultation).conditions}["territory"]
    assert territory.status == Status.NOT_MET
    assert "zone prioritaire n'est pas renseignée" in territory.explanation


def test_the_zoning_costs_one_query_per_page_and_none_per_row(
    cantal, staff, django_assert_num_queries
):
    consultations = [_outside_patient_consultation() for _ in range(3)]
    save(staff, ["Aurillac"], D(2020, 1, 1))
    with django_assert_num_queries(1):
        zones = priority_zone_lookup()
    with django_assert_num_queries(0):
        results = [assess_consultation(c, zones=zones) for c in consultations]
    assert all(
        {c.key: c.status for c in r.conditions}["territory"] == Status.EXEMPTED for r in results
    )


# --- the service's refusals ----------------------------------------------------------------


def test_only_staff_save_a_zoning_and_reads_are_scoped(cantal):
    stranger = UserFactory()
    with pytest.raises(BookingForbidden):
        save(stranger, ["Aurillac"], D(2026, 1, 1))
    assert not PriorityZoneCommune.objects.exists()
    save(staff_user(), ["Aurillac"], D(2026, 1, 1))
    assert list(zone_communes_on(actor=stranger, day=D(2026, 1, 1))) == []
    assert zoning_history(actor=stranger) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"communes": []}, "au moins une commune"),
        ({"valid_from": None}, "Indiquez la date"),
        ({"source": "   "}, "Indiquez la source"),
        ({"source": "x" * 301}, "300 caractères"),
    ],
)
def test_the_service_refuses_bad_input_and_writes_nothing(cantal, staff, kwargs, message):
    values = {
        "communes": [commune("Aurillac")],
        "valid_from": D(2026, 1, 1),
        "source": "Arrêté",
    } | kwargs
    with pytest.raises(BookingRuleError, match=message):
        zoning_save(actor=staff, **values)
    assert not PriorityZoneCommune.objects.exists()
    assert not AuditLog.objects.filter(action="telehealth.zoning_save").exists()


def test_a_commune_outside_the_territory_is_refused(cantal, staff):
    with pytest.raises(BookingRuleError, match="pas dans le territoire"):
        zoning_save(
            actor=staff, communes=[CommuneFactory()], valid_from=D(2026, 1, 1), source="Arrêté"
        )
    assert not PriorityZoneCommune.objects.exists()


def test_an_identical_zoning_is_refused(cantal, staff):
    save(staff, ["Aurillac"], D(2025, 1, 1))
    before = snapshot()
    with pytest.raises(BookingRuleError, match="identique"):
        save(staff, ["Aurillac"], D(2026, 1, 1))
    assert snapshot() == before


def test_a_zoning_is_saved_whole_or_not_at_all(cantal, staff, monkeypatch):
    save(staff, ["Aurillac", "Mauriac"], D(2025, 1, 1))
    before = snapshot()

    def broken_audit(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(zoning_services, "audit_log", broken_audit)
    with pytest.raises(RuntimeError):
        save(staff, ["Mauriac", "Saint-Flour"], D(2026, 1, 1))
    assert snapshot() == before


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def coordinator():
    user = UserFactory()
    make_site(coordinators=[user])
    return user


@pytest.fixture
def practitioner_user():
    return make_consultation().practitioner.user


def test_staff_record_a_zoning_through_the_pages(cantal, staff):
    client = logged(staff)
    page = client.get(LIST_URL)
    assert page.status_code == 200
    assert "Aucun zonage n'est enregistré" in page.content.decode()
    form = client.get(EDIT_URL)
    assert form.status_code == 200 and "Saint-Flour (15187)" in form.content.decode()
    response = client.post(
        EDIT_URL,
        {
            "communes": "Aurillac\n15120\nsaint-flour",
            "valid_from": "2025-01-01",
            "source": "Arrêté ARS Auvergne-Rhône-Alpes du 12/12/2024",
        },
    )
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert PriorityZoneCommune.objects.count() == 3
    audit = AuditLog.objects.get(action="telehealth.zoning_save")
    assert audit.actor == staff and audit.data["in_zone"] == 3
    page = client.get(LIST_URL).content.decode()
    assert "Mauriac" in page and "01/01/2025" in page
    assert "Arrêté ARS Auvergne-Rhône-Alpes du 12/12/2024" in page
    # The form starts from the zoning in force, ready to be edited.
    form = client.get(EDIT_URL).content.decode()
    assert "Aurillac (15014)\nMauriac (15120)\nSaint-Flour (15187)" in form

    response = client.post(
        EDIT_URL,
        {"communes": "Mauriac (15120)\nMurat", "valid_from": "2026-02-01", "source": "Arrêté 2026"},
        follow=True,
    )
    assert "2 sortent" in response.content.decode()
    assert commune("Aurillac").telehealth_priority_zones.get().valid_until == D(2026, 1, 31)
    # The network pages link to the zoning.
    assert LIST_URL in client.get(reverse("telehealth:network_sites")).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"communes": "Aurillac\nAtlantis\n63113", "valid_from": "2026-01-01"},
            "« Atlantis », « 63113 »",
        ),
        ({"communes": "", "valid_from": "2026-01-01"}, "Indiquez au moins une commune."),
        ({"communes": " \n ;", "valid_from": "2026-01-01"}, "Indiquez au moins une commune."),
        ({"communes": "Aurillac", "valid_from": ""}, "Indiquez la date"),
        ({"communes": "Aurillac", "valid_from": "31/02/2026"}, "Indiquez une date"),
        ({"communes": "Aurillac", "valid_from": "2024-12-31"}, "prend effet le 01/01/2025"),
        ({"communes": "Aurillac", "valid_from": "0001-01-01"}, "vérifiez l'année"),
        ({"communes": "Mauriac", "valid_from": "2026-01-01", "source": ""}, "Indiquez la source"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(cantal, staff, data, message):
    save(staff, ["Mauriac"], D(2025, 1, 1))
    before = snapshot()
    audits = AuditLog.objects.count()
    response = logged(staff).post(EDIT_URL, {"source": "Arrêté"} | data)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert snapshot() == before
    assert AuditLog.objects.count() == audits


def test_the_ars_csv_fills_the_form_in_and_saves_nothing(cantal, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        "CODGEO;LIBGEO;Zonage\n15014;Aurillac;ZIP\n15120;Mauriac;ZIP\n63113;Clermont-Ferrand;ZIP\n"
        "1001;L'Abergement-Clémenciat;ZIP\n15999;Inconnue;ZIP\n"
    ).encode("cp1252")
    response = logged(staff).post(
        IMPORT_URL, {"file": SimpleUploadedFile("zonage.csv", content, "text/csv")}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aurillac (15014)\nMauriac (15120)\n15999" in html
    assert "2 lignes d&#x27;autres départements ignorées" in html
    assert "15999" in html.split("Codes inconnus")[1]
    assert not PriorityZoneCommune.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"nom\nAurillac\n", "Aucune colonne « code INSEE »"),
        (b"code_insee\nabc\n", "ligne 2 : ABC"),
        (b"code insee\n63113\n", "aucune commune du territoire"),
        (b"", "Le fichier est vide."),
        (b"\x00\x01\x02", "pas un fichier CSV lisible"),
    ],
)
def test_a_bad_csv_is_refused_in_french(cantal, staff, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = logged(staff).post(
        IMPORT_URL, {"file": SimpleUploadedFile("zonage.csv", content, "text/csv")}
    )
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not PriorityZoneCommune.objects.exists()


def test_everyone_but_staff_is_refused(cantal, coordinator, practitioner_user):
    data = {"communes": "Aurillac", "valid_from": "2026-01-01", "source": "Arrêté"}
    for user in (coordinator, practitioner_user, UserFactory()):
        client = logged(user)
        assert client.get(LIST_URL).status_code == 403
        assert client.get(EDIT_URL).status_code == 403
        assert client.post(EDIT_URL, data).status_code == 403
        assert client.post(IMPORT_URL, {}).status_code == 403
    anonymous = Client()
    for url in (LIST_URL, EDIT_URL):
        response = anonymous.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert anonymous.post(EDIT_URL, data).status_code == 302
    assert not PriorityZoneCommune.objects.exists()
    assert not AuditLog.objects.filter(action="telehealth.zoning_save").exists()
