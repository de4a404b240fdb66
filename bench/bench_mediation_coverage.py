"""Coverage of the territory by digital mediation on the Cantal (250 communes) with the demo's
mediation places and tour stops: the coverage at 15 km, with three proposed stops, the five
suggested communes, and the Département's page /mediation/couverture/.

.venv/bin/python bench/bench_mediation_coverage.py       (or `make bench` for every benchmark)
"""

from io import StringIO

from harness import Bench, main

TARGET_MS = 200


def run(bench: Bench) -> None:
    import datetime as dt

    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from cybercantal.accounts.models import User
    from cybercantal.booking.models import Resource
    from cybercantal.mediation.models import MediationPlace, Tour, TourStop
    from cybercantal.mediation.selectors.coverage import best_candidates, coverage
    from cybercantal.territory.models import Commune, Organisation, Place

    call_command("load_territory", "15", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    # The demo has few tour stops: give one itinerant tour a stop a week for 90 days in the
    # communes of the demo's public places, as a busy tour would (about 13 stops).
    today = timezone.localdate()
    places = list(Place.objects.filter(is_public=True).order_by("pk")[:13])
    organisation = Organisation.objects.order_by("pk").first()
    mediator = Resource.objects.filter(kind=Resource.Kind.PERSON).order_by("pk").first()
    if mediator and organisation and places and not TourStop.objects.exists():
        tour = Tour.objects.create(
            name="Tournée du banc", organisation=organisation, mediator=mediator
        )
        TourStop.objects.bulk_create(
            TourStop(
                tour=tour,
                place=place,
                day=today + dt.timedelta(days=7 * i + 1),
                start_time=dt.time(9),
                end_time=dt.time(12),
            )
            for i, place in enumerate(places)
        )
    bench.datasets["cantal"] = {
        "communes": Commune.objects.count(),
        "fixed_places": MediationPlace.objects.filter(
            itinerance=MediationPlace.Itinerance.FIXED, place__is_public=True
        ).count(),
        "tour_stops": TourStop.objects.count(),
    }
    proposed = [
        (c.latitude, c.longitude, c.name)
        for c in Commune.objects.order_by("-population")[20:23].only(
            "latitude", "longitude", "name"
        )
    ]

    whole = bench.measure(
        "coverage(territoire, 15 km)",
        lambda: coverage(radius_km=15),
        repeat=50,
        uncovered=len(coverage(radius_km=15).uncovered),
    )
    bench.measure(
        "coverage(territoire, 15 km, 3 étapes envisagées)",
        lambda: coverage(radius_km=15, extra_points=proposed),
        repeat=50,
    )
    bench.measure(
        "coverage + best_candidates(k=5), 15 km",
        lambda: best_candidates(coverage(radius_km=15), k=5),
        repeat=30,
    )
    bench.measure(
        "coverage + best_candidates(k=5), 5 km",
        lambda: best_candidates(coverage(radius_km=5), k=5),
        repeat=30,
        uncovered=len(coverage(radius_km=5).uncovered),
    )

    agent = User.objects.get(username="demo-agent")
    client = Client()
    client.force_login(agent)
    url = reverse("mediation:coverage")
    codes = list(
        Commune.objects.order_by("-population").values_list("insee_code", flat=True)[20:23]
    )
    assert client.get(url).status_code == 200
    page = bench.measure(
        "GET /mediation/couverture/ (15 km)",
        lambda: client.get(url),
        repeat=20,
    )
    bench.measure(
        "GET /mediation/couverture/?rayon=10&ajout=×3",
        lambda: client.get(url, {"rayon": "10", "ajout": codes}),
        repeat=20,
    )
    bench.measure(
        "GET /mediation/couverture/export.csv",
        lambda: client.get(reverse("mediation:coverage_csv")),
        repeat=20,
    )
    for label, figures in (("calcul de la couverture du territoire", whole), ("page", page)):
        p95 = figures["p95_ms"]
        bench.targets.append(
            {
                "target": f"{label}, p95 ≤ {TARGET_MS} ms",
                "status": "atteint" if p95 <= TARGET_MS else "manqué",
                "detail": f"p95 {p95} ms, {figures['queries']} requêtes",
            }
        )


if __name__ == "__main__":
    main(run, "mediation_coverage")
