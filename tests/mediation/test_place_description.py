"""A structure's mediators (or the Département's staff) describe one of its places in the
national schema (/mediation/lieux/<id>/description/): what they save is exported as a valid
row of the schema; a wrong pivot, no service or a too-long summary is refused with a French
message and nothing written; other structures' places are not found (404), other users are
refused (403), anonymous visitors are sent to the login page."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cybercantal.core.models import AuditLog
from cybercantal.mediation import vocabulary
from cybercantal.mediation.models import MediationPlace
from cybercantal.mediation.services.places import mediation_place_describe, pivot_error
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.booking.factories import department_agent
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from ._places_helpers import MediationPlaceFactory
from .test_schema_export import schema_errors

pytestmark = pytest.mark.django_db

LIST = reverse("mediation:place_description_list")
SIRET = "22150001000014"  # a valid SIRET (check keys of SIREN and SIRET)


def url(place) -> str:
    return reverse("mediation:place_description", args=[place.pk])


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def setting():
    structure = OrganisationFactory(name="Centre social de Riom")
    commune = CommuneFactory(insee_code="15162", name="Riom-ès-Montagnes", postal_codes="15400")
    place = PlaceFactory(
        name="Espace numérique de Riom",
        organisation=structure,
        commune=commune,
        address="2 rue du Commerce",
        phone="04 71 00 00 00",
        email="contact@example.org",
    )
    return structure, place, mediator_of(structure)


def data(**changes):
    values = {
        "pivot": SIRET,
        "itinerance": "Fixe",
        "presentation_resume": "Aide aux démarches en ligne, sur rendez-vous.",
        "presentation_detail": "Un médiateur vous accompagne,\nle mardi et le jeudi.",
        "services": [
            "Aide aux démarches administratives",
            "Maîtrise des outils numériques du quotidien",
        ],
        "publics_specifiquement_adresses": ["Seniors"],
        "prise_en_charge_specifique": ["Surdité"],
        "frais_a_charge": ["Gratuit"],
        "modalites_acces": ["Se présenter", "Téléphoner"],
        "modalites_accompagnement": ["Accompagnement individuel"],
        "dispositif_programmes_nationaux": ["Conseillers numériques"],
        "formations_labels": ["Formé à « Mon Espace Santé »"],
        "autres_formations_labels": "Label local",
        "typologie": ["CS"],
        "fiche_acces_libre": "https://acceslibre.beta.gouv.fr/app/15-riom/",
        "prise_rdv": "https://example.org/rdv",
    }
    return values | changes


def test_the_mediator_describes_a_place_and_the_export_validates(client, setting):
    _structure, place, mediator = setting
    client.force_login(mediator)
    page = client.get(url(place))
    assert page.status_code == 200
    assert page.context["form"].initial["itinerance"] == "Fixe"

    response = client.post(url(place), data())
    assert response.status_code == 302
    assert response["Location"] == LIST
    mediation = MediationPlace.objects.get(place=place)
    assert mediation.pivot == SIRET
    assert mediation.services == data()["services"]
    assert mediation.typologie == ["CS"]
    assert mediation.prise_rdv == "https://example.org/rdv"
    log = AuditLog.objects.get(action="mediation.place_describe")
    assert log.data["place"] == place.pk

    export = client.get("/mediation/lieux/export.csv")
    assert export.status_code == 200
    assert schema_errors(export.content) == []
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8"))))
    (row,) = [row for row in rows if row["nom"] == "Espace numérique de Riom"]
    assert row["pivot"] == SIRET
    assert row["services"] == (
        "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien"
    )
    assert row["modalites_acces"] == "Se présenter|Téléphoner"
    assert row["presentation_resume"] == data()["presentation_resume"]

    listing = client.get(LIST)
    assert listing.status_code == 200
    assert listing.context["rows"][0]["state"] == "Complète"


def test_an_association_with_its_rna_number(client, setting):
    _structure, place, mediator = setting
    client.force_login(mediator)
    response = client.post(url(place), data(pivot="w151000123"))
    assert response.status_code == 302
    assert MediationPlace.objects.get(place=place).pivot == "W151000123"


def test_the_list_shows_what_is_to_complete(client, setting):
    structure, place, mediator = setting
    undescribed = PlaceFactory(name="Mairie de Riom", organisation=structure)
    MediationPlaceFactory(place=place, services=[])
    PlaceFactory(name="Lieu d'une autre structure", organisation=OrganisationFactory())
    client.force_login(mediator)
    response = client.get(LIST)
    assert response.status_code == 200
    states = {row["place"].name: row["state"] for row in response.context["rows"]}
    assert states == {place.name: "À compléter", undescribed.name: "À compléter"}
    assert "À compléter" in response.content.decode()
    assert url(undescribed) in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"services": []}, "services", "Cochez au moins un service"),
        ({"pivot": "22150001000015"}, "pivot", "clé de contrôle"),
        ({"pivot": "1234-5678"}, "pivot", "forme attendue"),
        ({"pivot": "123456789012"}, "pivot", "ni un SIRET"),
        ({"presentation_resume": "x" * 281}, "presentation_resume", "280 caractères au plus"),
    ],
)
def test_refusals_change_nothing(client, setting, changes, field, message):
    _structure, place, mediator = setting
    described = MediationPlaceFactory(place=place, pivot="W151000123", presentation_resume="Avant")
    before = MediationPlace.objects.filter(pk=described.pk).values().get()
    client.force_login(mediator)
    response = client.post(url(place), data(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert MediationPlace.objects.filter(pk=described.pk).values().get() == before
    assert not AuditLog.objects.filter(action="mediation.place_describe").exists()


def test_a_refusal_creates_no_description(client, setting):
    _structure, place, mediator = setting
    client.force_login(mediator)
    response = client.post(url(place), data(services=[]))
    assert response.status_code == 400
    assert not MediationPlace.objects.filter(place=place).exists()


def test_another_structures_mediator_does_not_find_the_place(client, setting):
    _structure, place, _mediator = setting
    described = MediationPlaceFactory(place=place, presentation_resume="Avant")
    client.force_login(mediator_of(OrganisationFactory()))
    assert client.get(url(place)).status_code == 404
    assert client.post(url(place), data()).status_code == 404
    assert MediationPlace.objects.get(pk=described.pk).presentation_resume == "Avant"
    assert place.name not in client.get(LIST).content.decode()


def test_a_plain_user_is_refused(client, setting):
    _structure, place, _mediator = setting
    client.force_login(UserFactory())
    assert client.get(url(place)).status_code == 403
    assert client.post(url(place), data()).status_code == 403
    assert client.get(LIST).status_code == 403
    assert not MediationPlace.objects.filter(place=place).exists()


def test_an_anonymous_visitor_is_sent_to_login(client, setting):
    _structure, place, _mediator = setting
    for response in (client.get(url(place)), client.post(url(place), data()), client.get(LIST)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert not MediationPlace.objects.filter(place=place).exists()


def test_the_departments_staff_describe_any_structures_place(client, setting):
    _structure, place, _mediator = setting
    client.force_login(department_agent())
    assert place.name in client.get(LIST).content.decode()
    assert client.post(url(place), data()).status_code == 302
    assert MediationPlace.objects.get(place=place).services


def test_the_service_checks_permission_and_vocabulary(setting):
    _structure, place, mediator = setting
    with pytest.raises(PermissionDenied):
        mediation_place_describe(actor=UserFactory(), place=place, **data())
    with pytest.raises(ValidationError) as refusal:
        mediation_place_describe(
            actor=mediator, place=place, **data(frais_a_charge=["Gratuit", "Offert"])
        )
    assert "Offert" in refusal.value.message_dict["frais_a_charge"][0]
    assert not MediationPlace.objects.filter(place=place).exists()
    mediation = mediation_place_describe(
        actor=mediator, place=place, **data(frais_a_charge=list(vocabulary.FRAIS_A_CHARGE)[::-1])
    )
    assert mediation.frais_a_charge == list(vocabulary.FRAIS_A_CHARGE)  # the schema's order


def test_pivot_error():
    assert pivot_error(SIRET) is None
    assert pivot_error("W151000123") is None
    assert pivot_error("22150001000015")
    assert pivot_error("21150014300017")  # wrong SIRET check key (the factories' old pivot)
    assert pivot_error(MediationPlaceFactory.build().pivot) is None
    assert pivot_error("W15100012")  # 8 digits
    assert pivot_error("A151000123")
