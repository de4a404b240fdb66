"""Territory: loading the Cantal, commune search, places near a commune, the communes list.

.venv/bin/python bench/bench_territory.py       (or `make bench` for every benchmark)
"""

import random
from io import StringIO

from harness import Bench, main

SEARCHES = ["aurillac", "saint flour", "VIC-SUR-CÈRE", "15100", "mur", "a"]
NEAR = {"15014": "Aurillac", "15187": "Saint-Flour", "15162": "Riom-ès-Montagnes"}
GENERATED_PLACES = 500


def run(bench: Bench) -> None:
    from django.core.management import call_command

    from cybercantal.territory.models import Commune, Epci

    def load() -> None:
        call_command("load_territory", "15", stdout=StringIO())

    def empty_territory() -> None:
        Commune.objects.all().delete()
        Epci.objects.all().delete()

    bench.measure("load_territory 15 (base vide)", load, repeat=5, setup=empty_territory)
    bench.measure("load_territory 15 (relance, rien ne change)", load, repeat=10)

    commune_search_figures(bench)
    agent = generate_places(GENERATED_PLACES)
    places_near_figures(bench, agent)
    communes_list_figures(bench)


def commune_search_figures(bench: Bench) -> None:
    from cybercantal.territory.selectors import commune_search

    for query in SEARCHES:
        bench.measure(
            f"commune_search({query!r})",
            lambda query=query: commune_search(query),
            repeat=200,
            results=len(commune_search(query)),
        )


def generate_places(count: int):
    """`count` places spread over random communes (fixed seed), each within ~2 km of its
    commune's point, one or two kinds each, one in ten non-public and run by an organisation.
    Returns an agent of the Département (who sees every place)."""
    from cybercantal.accounts.models import Membership, Role, User
    from cybercantal.territory.models import Commune, Organisation, Place, PlaceKind

    rng = random.Random(15)
    communes = list(Commune.objects.defer("outline"))
    kinds = list(PlaceKind.objects.all())
    organisation = Organisation.objects.create(name="Structure du banc d'essai", kind="other")
    places = []
    for number in range(count):
        commune = rng.choice(communes)
        places.append(
            Place(
                name=f"Lieu {number:03d}",
                address="1 place de la Mairie",
                postal_code=commune.postal_code_list[0],
                commune=commune,
                latitude=commune.latitude + rng.uniform(-0.02, 0.02),
                longitude=commune.longitude + rng.uniform(-0.025, 0.025),
                is_public=rng.random() >= 0.1,
                organisation=organisation,
            )
        )
    Place.objects.bulk_create(places)
    Through = Place.kinds.through
    Through.objects.bulk_create(
        Through(place_id=place.pk, placekind_id=kind.pk)
        for place in places
        for kind in rng.sample(kinds, rng.choice([1, 2]))
    )
    agent = User.objects.create(username="agent-banc-essai")
    Membership.objects.create(user=agent, organisation=organisation, role=Role.DEPARTMENT_AGENT)
    return agent


def places_near_figures(bench: Bench, agent) -> None:
    from cybercantal.territory.models import Commune
    from cybercantal.territory.selectors import places_near_commune

    def forget_roles() -> None:
        # A request starts with a fresh user object: its roles are read again.
        agent.__dict__.pop("_role_codes", None)

    for insee, name in NEAR.items():
        commune = Commune.objects.defer("outline").get(insee_code=insee)

        def near(commune=commune, actor=None, kind=None):
            return places_near_commune(actor=actor, commune=commune, radius_km=20, kind=kind)

        bench.measure(
            f"places_near_commune({name}, 20 km, anonyme)",
            near,
            repeat=100,
            results=len(near()),
            places=GENERATED_PLACES,
        )
    aurillac = Commune.objects.defer("outline").get(insee_code="15014")
    bench.measure(
        "places_near_commune(Aurillac, 20 km, agent)",
        lambda: places_near_commune(actor=agent, commune=aurillac, radius_km=20),
        repeat=100,
        setup=forget_roles,
        results=len(places_near_commune(actor=agent, commune=aurillac, radius_km=20)),
        places=GENERATED_PLACES,
    )
    bench.measure(
        "places_near_commune(Aurillac, 20 km, anonyme, tiers_lieu)",
        lambda: places_near_commune(actor=None, commune=aurillac, radius_km=20, kind="tiers_lieu"),
        repeat=100,
        results=len(
            places_near_commune(actor=None, commune=aurillac, radius_km=20, kind="tiers_lieu")
        ),
        places=GENERATED_PLACES,
    )


def communes_list_figures(bench: Bench) -> None:
    from django.test import Client

    from cybercantal.territory.schemas import CommuneOut
    from cybercantal.territory.selectors import commune_list

    def selector_and_schema() -> list[dict]:
        communes = commune_list()
        communes.count()  # the API's pagination counts, then reads one page
        return [CommuneOut.from_orm(commune).model_dump() for commune in communes[:250]]

    bench.measure(
        "commune_list + CommuneOut (250 communes, comme l'API)",
        selector_and_schema,
        repeat=50,
        results=len(selector_and_schema()),
    )
    client = Client()
    bench.measure(
        "GET /api/v1/communes?limit=250 (client de test)",
        lambda: client.get(COMMUNES_URL, {"limit": 250}),
        repeat=50,
        status=client.get(COMMUNES_URL, {"limit": 250}).status_code,
    )


COMMUNES_URL = "/api/v1/communes"

if __name__ == "__main__":
    main(run, "territory")
