"""Reads on the territory: commune search, places near a point, who sees which place."""

import pytest
from django.contrib.auth.models import AnonymousUser

from cybercantal.accounts.models import Role
from cybercantal.core.geo import ROAD_FACTOR, great_circle_km
from cybercantal.territory.models import Commune
from cybercantal.territory.selectors import (
    commune_list,
    commune_search,
    place_get,
    place_list,
    places_near,
    places_near_commune,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.core.test_geo import destination
from tests.territory.factories import OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def names(communes) -> list[str]:
    return [commune.name for commune in communes]


# --- Commune search -------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["saint flour", "SAINT-FLOUR", "Saint-Flour", "  saint  flour "])
def test_search_tolerates_case_hyphens_and_spaces(cantal, query):
    assert names(commune_search(query))[0] == "Saint-Flour"


@pytest.mark.parametrize("query", ["vic sur cere", "VIC-SUR-CÈRE", "Vic-sur-Cère"])
def test_search_tolerates_accents(cantal, query):
    assert names(commune_search(query)) == ["Vic-sur-Cère"]


def test_search_by_postal_code(cantal):
    found = names(commune_search("15000"))
    assert "Aurillac" in found
    assert "Ytrac" in found  # a commune with two postal codes (15000 15130)
    assert all("15000" in c.postal_code_list for c in commune_search("15000"))
    assert "Saint-Flour" in names(commune_search("15 100"))


def test_search_by_postal_code_prefix(cantal):
    # "151" starts 15100, 15110, 15120…: every commune found has such a code.
    found = commune_search("151", limit=300)
    assert found
    assert all(any(code.startswith("151") for code in c.postal_code_list) for c in found)


def test_names_that_start_with_the_query_come_first(cantal):
    assert names(commune_search("aur"))[:2] == ["Auriac-l'Église", "Aurillac"]
    assert "Mauriac" in names(commune_search("aur"))  # inside the name, listed after
    assert names(commune_search("mur")) == ["Murat", "Montmurat"]


@pytest.mark.parametrize("query", ["", "   ", "-", "'", None])
def test_empty_query_finds_nothing(cantal, query):
    assert commune_search(query) == []


def test_unknown_name_finds_nothing(cantal):
    assert commune_search("Clermont-Ferrand") == []


def test_search_respects_the_limit(cantal):
    assert len(commune_search("saint", limit=5)) == 5


def test_commune_list_defers_outlines_and_filters(cantal, django_assert_num_queries):
    with django_assert_num_queries(1):
        communes = list(commune_list(epci_siren="200066660"))  # CC de Saint-Flour
        assert {c.epci.name for c in communes} == {"CC de Saint-Flour"}
    assert "outline" in communes[0].get_deferred_fields()
    assert names(commune_list(name="chaudes")) == [
        "Chaudes-Aigues",
        "Saint-Rémy-de-Chaudes-Aigues",
    ]


# --- Places near a point --------------------------------------------------------------------
@pytest.fixture
def aurillac(cantal) -> Commune:
    return Commune.objects.get(insee_code="15014")


def test_places_near_are_ordered_by_distance_within_the_radius(aurillac):
    by_insee = {c.insee_code: c for c in Commune.objects.all()}
    near = {
        "15014": PlaceFactory(commune=by_insee["15014"], name="À Aurillac"),
        "15012": PlaceFactory(commune=by_insee["15012"], name="À Arpajon-sur-Cère"),
        "15258": PlaceFactory(commune=by_insee["15258"], name="À Vic-sur-Cère"),
        "15267": PlaceFactory(commune=by_insee["15267"], name="À Ytrac"),
    }
    PlaceFactory(commune=by_insee["15219"], name="À Salers")  # about 25 km away
    PlaceFactory(commune=by_insee["15187"], name="À Saint-Flour")  # about 52 km away

    results = places_near_commune(actor=None, commune=aurillac, radius_km=20)

    assert {r.place.pk for r in results} == {place.pk for place in near.values()}
    distances = [r.distance_km for r in results]
    assert distances == sorted(distances)
    assert results[0].place == near["15014"]
    assert results[0].distance_km == 0
    for result in results:
        expected = great_circle_km(
            aurillac.latitude, aurillac.longitude, result.place.latitude, result.place.longitude
        )
        assert result.distance_km == pytest.approx(expected, abs=0.05)
        assert result.road_km == pytest.approx(expected * ROAD_FACTOR, abs=0.05)
        assert result.distance_km <= 20


def test_the_corner_of_the_search_box_is_outside_the_circle(aurillac):
    """A place 21 km away to the north-east lies inside the 20 km bounding box (whose corner
    is 28 km away) but outside the circle: it is left out. One 19 km away is kept."""
    lat, lon = destination(aurillac.latitude, aurillac.longitude, 45, 21)
    PlaceFactory(commune=aurillac, name="21 km", latitude=lat, longitude=lon)
    lat, lon = destination(aurillac.latitude, aurillac.longitude, 45, 19)
    PlaceFactory(commune=aurillac, name="19 km", latitude=lat, longitude=lon)

    results = places_near(
        actor=None, latitude=aurillac.latitude, longitude=aurillac.longitude, radius_km=20
    )

    assert [r.place.name for r in results] == ["19 km"]


def test_places_near_filters_by_kind(aurillac):
    PlaceFactory(commune=aurillac, name="Tiers-lieu", kinds=["tiers_lieu"])
    PlaceFactory(commune=aurillac, name="Médiation", kinds=["mediation"])
    PlaceFactory(commune=aurillac, name="Les deux", kinds=["mediation", "tiers_lieu"])

    results = places_near_commune(actor=None, commune=aurillac, radius_km=5, kind="tiers_lieu")

    assert sorted(r.place.name for r in results) == ["Les deux", "Tiers-lieu"]


def test_equal_distances_are_ordered_by_name(aurillac):
    for name in ("Bêta", "Alpha", "Gamma"):
        PlaceFactory(commune=aurillac, name=name)
    results = places_near_commune(actor=None, commune=aurillac, radius_km=1)
    assert [r.place.name for r in results] == ["Alpha", "Bêta", "Gamma"]


# --- Who sees which place -------------------------------------------------------------------
@pytest.fixture
def care_home(aurillac):
    return OrganisationFactory(name="EHPAD d'essai", kind="care_home", commune=aurillac)


@pytest.fixture
def private_room(care_home, aurillac):
    return PlaceFactory(
        commune=aurillac,
        name="Salle de téléconsultation",
        organisation=care_home,
        kinds=["telehealth"],
        is_public=False,
    )


@pytest.fixture
def public_place(aurillac):
    return PlaceFactory(commune=aurillac, name="Médiathèque", kinds=["library"])


def visible(actor) -> set[str]:
    return {place.name for place in place_list(actor=actor)}


def test_anonymous_visitors_see_public_places_only(private_room, public_place):
    for actor in (None, AnonymousUser()):
        assert visible(actor) == {"Médiathèque"}
        assert place_get(actor=actor, place_id=private_room.pk) is None
        assert place_get(actor=actor, place_id=public_place.pk) == public_place
        near = places_near_commune(actor=actor, commune=public_place.commune, radius_km=5)
        assert [r.place for r in near] == [public_place]


def test_members_of_the_operating_organisation_see_its_private_place(
    private_room, public_place, care_home
):
    nurse = UserFactory()
    MembershipFactory(user=nurse, organisation=care_home, role=Role.ASSISTING_PROFESSIONAL)
    # A second role in the same organisation does not list the place twice.
    MembershipFactory(user=nurse, organisation=care_home, role=Role.PRACTITIONER)

    assert visible(nurse) == {"Médiathèque", "Salle de téléconsultation"}
    assert [p.name for p in place_list(actor=nurse)].count("Salle de téléconsultation") == 1
    assert place_get(actor=nurse, place_id=private_room.pk) == private_room


@pytest.mark.parametrize("role", [Role.DEPARTMENT_AGENT, Role.PLATFORM_ADMIN])
def test_staff_overseeing_the_territory_see_every_place(private_room, public_place, role):
    agent = UserFactory(roles=[role])
    assert visible(agent) == {"Médiathèque", "Salle de téléconsultation"}


def test_elected_officials_read_figures_not_non_public_places(private_room, public_place):
    assert visible(UserFactory(roles=[Role.ELECTED_OFFICIAL])) == {"Médiathèque"}


@pytest.mark.parametrize("role", [Role.PARENT, Role.PUPIL, Role.RESIDENT])
def test_people_attached_without_working_there_do_not_see_non_public_places(
    private_room, public_place, care_home, role
):
    member = UserFactory()
    MembershipFactory(user=member, organisation=care_home, role=role)
    assert visible(member) == {"Médiathèque"}


def test_role_codes_used_by_the_territory_are_real_roles():
    from cybercantal.territory.selectors import ROLES_NOT_STAFF, ROLES_SEEING_ALL_PLACES

    assert set(ROLES_SEEING_ALL_PLACES) | set(ROLES_NOT_STAFF) <= set(Role.values)


@pytest.mark.parametrize("role", [Role.MEDIATOR, Role.PRACTITIONER, Role.RESIDENT])
def test_non_members_are_refused_the_private_place(private_room, public_place, role):
    outsider = UserFactory(roles=[role])  # a member of another organisation
    assert visible(outsider) == {"Médiathèque"}
    assert place_get(actor=outsider, place_id=private_room.pk) is None
    near = places_near_commune(actor=outsider, commune=private_room.commune, radius_km=5)
    assert private_room not in [r.place for r in near]


def test_an_inactive_membership_grants_nothing(private_room, public_place, care_home):
    former = UserFactory()
    MembershipFactory(
        user=former, organisation=care_home, role=Role.ASSISTING_PROFESSIONAL, is_active=False
    )
    assert visible(former) == {"Médiathèque"}
