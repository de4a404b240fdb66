"""The indicators registry and its API: core reads whatever modules registered, a failing
provider is left out, the answer is public and cached."""

import pytest
from django.core.cache import cache

from cybercantal.core.registries import (
    Indicator,
    IndicatorProvider,
    collect_indicators,
    indicator_providers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers():
    saved = indicator_providers.all()
    indicator_providers.clear()
    calls = []

    def counted(*, year):
        calls.append(year)
        return [Indicator("test.visits", "Visites", year - 2000, "visites", "Comptées.")]

    def broken(*, year):
        raise RuntimeError("base indisponible")

    indicator_providers.register(IndicatorProvider("test", "Module de test", counted, order=2))
    indicator_providers.register(IndicatorProvider("broken", "Module cassé", broken, order=1))
    yield calls
    indicator_providers.clear()
    for provider in saved:
        indicator_providers.register(provider)


def test_a_failing_provider_is_left_out(providers, caplog):
    answers = collect_indicators(year=2026)
    assert [a.provider.key for a in answers] == ["test"]
    assert answers[0].indicators[0].value == 26
    assert "broken" in caplog.text


def test_api_answers_anyone_and_caches(client, providers):
    response = client.get("/api/v1/indicateurs?annee=2027")
    assert response.status_code == 200
    assert response.json() == {
        "annee": 2027,
        "modules": [
            {
                "module": "test",
                "libelle": "Module de test",
                "indicateurs": [
                    {
                        "cle": "test.visits",
                        "libelle": "Visites",
                        "valeur": 27,
                        "unite": "visites",
                        "methode": "Comptées.",
                    }
                ],
            }
        ],
    }
    client.get("/api/v1/indicateurs?annee=2027")
    assert providers == [2027]
    cache.clear()
    client.get("/api/v1/indicateurs?annee=2027")
    assert providers == [2027, 2027]


@pytest.mark.parametrize("year", ["1800", "deux-mille", "99999"])
def test_api_refuses_a_bad_year_in_french(client, providers, year):
    response = client.get(f"/api/v1/indicateurs?annee={year}")
    assert response.status_code == 422
    assert response.json()["detail"] == "Paramètres invalides."
    assert providers == []
