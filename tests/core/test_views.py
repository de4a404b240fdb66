"""The platform shell: base layout, home page, registries, error pages."""

import html as html_lib

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.urls import reverse

from cybercantal.core import registries
from cybercantal.core.registries import DashboardCard, SearchProvider, SearchResult
from cybercantal.core.templatetags.cybercantal_ui import contrast_ratio, contrast_text, css_color
from cybercantal.territory.selectors import commune_get
from tests.accounts.factories import UserFactory
from tests.territory.factories import PlaceFactory

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return html_lib.unescape(response.content.decode())


@pytest.fixture
def clean_registries():
    """Registries are process-wide: leave them as they were."""
    saved = {
        name: dict(getattr(registries, name)._entries)
        for name in ("dashboard_cards", "search_providers")
    }
    yield registries
    for name, entries in saved.items():
        registry = getattr(registries, name)
        registry.clear()
        for entry in entries.values():
            registry.register(entry)


# --- Base layout -----------------------------------------------------------------------------


def test_base_layout_is_accessible_and_branded(client, settings):
    settings.CYBERCANTAL_BRANDING = {
        **settings.CYBERCANTAL_BRANDING,
        "department_name": "Lozère",
        "platform_name": "NumériLozère",
        "primary_color": "#f5d300",  # light: text on it must turn dark
    }

    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    page = html(response)
    assert '<html lang="fr">' in page
    assert '<a class="skip-link" href="#contenu">Aller au contenu</a>' in page
    assert '<main id="contenu"' in page
    assert "<header" in page and "<footer" in page
    assert 'aria-label="Menu principal"' in page
    assert "Accueil — NumériLozère</title>" in page
    assert "Département du Lozère" in page
    assert "--primary: #f5d300;" in page
    assert "--on-primary: #1a1a1a;" in page
    assert 'id="messages" role="status" aria-live="polite"' in page
    assert 'aria-current="page"' in page
    assert "Se connecter" in page


def test_branding_colours_are_sanitised(client, settings):
    settings.CYBERCANTAL_BRANDING = {
        **settings.CYBERCANTAL_BRANDING,
        "primary_color": "red;}</style><script>alert(1)</script>",
    }

    page = client.get(reverse("core:home")).content.decode()

    assert "<script>alert(1)" not in page
    assert "--primary: #1d4f91;" in page


def test_signed_in_visitor_gets_account_link_and_a_post_logout(client):
    client.force_login(UserFactory())

    page = html(client.get(reverse("core:home")))

    assert "Mon compte" in page
    assert f'<form method="post" action="{reverse("accounts:logout")}">' in page
    assert "csrfmiddlewaretoken" in page
    assert "Se connecter" not in page


def test_messages_are_rendered_in_the_live_region(rf):
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    request._messages = FallbackStorage(request)
    messages.success(request, "Votre rendez-vous est confirmé.")

    rendered = render_to_string("base.html", request=request)

    live_region = rendered.split('id="messages"', 1)[1].split("</div>", 1)[0]
    assert 'role="status" aria-live="polite"' in live_region
    assert "Votre rendez-vous est confirmé." in live_region
    assert "message--success" in live_region


def test_contrast_helpers():
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_text("#1d4f91") == "#ffffff"
    assert contrast_text("#ffdd00") == "#1a1a1a"
    assert css_color("#abc") == "#abc"
    assert css_color("url(javascript:x)") == "#1d4f91"


# --- Home page -------------------------------------------------------------------------------


def test_home_page(client, cantal):
    aurillac = commune_get("15014")
    PlaceFactory(name="Médiathèque du Bourg", commune=aurillac, kinds=["library"])
    PlaceFactory(name="Lieu caché", commune=aurillac, is_public=False)

    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Bienvenue sur CyberCantal</h1>" in page
    assert f'action="{reverse("territory:search")}"' in page
    assert 'name="q"' in page
    # The map, its data and the kind filter.
    assert 'id="carte-lieux"' in page
    assert f'data-communes-url="{reverse("territory:communes_geojson")}"' in page
    assert f'data-places-url="{reverse("territory:places_geojson")}"' in page
    assert "<legend>Types de lieux à afficher" in page
    assert 'name="type" value="library" checked' in page
    assert "leaflet.js" in page
    # The equivalent list, scoped to the visitor.
    assert "Médiathèque du Bourg" in page
    assert "Lieu caché" not in page
    assert "1 lieu affiché sur 1" in page
    assert 'class="demo-banner"' not in page


def test_home_page_filters_without_javascript(client, cantal):
    aurillac = commune_get("15014")
    PlaceFactory(name="Médiathèque du Bourg", commune=aurillac, kinds=["library"])
    PlaceFactory(name="Tiers-lieu du Pont", commune=aurillac, kinds=["tiers_lieu"])
    url = reverse("core:home")

    page = html(client.get(url, {"filtre": "1", "type": "tiers_lieu"}))
    assert "Tiers-lieu du Pont" in page
    assert "Médiathèque du Bourg" not in page
    assert 'name="type" value="library">' in page  # unchecked

    page = html(client.get(url, {"filtre": "1"}))
    assert "Aucun type de lieu n'est coché" in page

    assert client.get(url, {"page": "abc", "type": "<b>"}).status_code == 200


def test_home_page_shows_demo_banner_for_demo_places(client, cantal):
    PlaceFactory(commune=commune_get("15014"), is_demo=True)

    page = html(client.get(reverse("core:home")))

    assert 'class="demo-banner"' in page
    assert "badge--demo" in page


def test_home_page_without_places_still_works(client, cantal):
    page = html(client.get(reverse("core:home")))

    assert "Aucun lieu n'est encore enregistré" in page


def test_home_page_renders_registered_cards(client, clean_registries):
    clean_registries.dashboard_cards.register(
        DashboardCard(
            key="test.tiers_lieux",
            title="Travailler dans un tiers-lieu",
            description="Réserver un bureau près de chez vous.",
            url="/tiers-lieux/",
        )
    )
    clean_registries.dashboard_cards.register(
        DashboardCard(
            key="test.members_only",
            title="Carte réservée",
            url="/reserve/",
            is_visible=lambda request: request.user.is_authenticated,
        )
    )
    clean_registries.dashboard_cards.register(
        DashboardCard(key="test.broken", title="Carte cassée", url_name="nowhere:nothing")
    )

    page = html(client.get(reverse("core:home")))

    assert '<a class="card__link" href="/tiers-lieux/">Travailler dans un tiers-lieu</a>' in page
    assert "Réserver un bureau près de chez vous." in page
    assert "Carte réservée" not in page
    assert "Carte cassée" not in page

    client.force_login(UserFactory())
    assert "Carte réservée" in html(client.get(reverse("core:home")))


def test_registry_keys_are_unique_and_ordered(clean_registries):
    cards = clean_registries.dashboard_cards
    cards.clear()
    cards.register(DashboardCard(key="b", title="B", url="/b/", order=2))
    cards.register(DashboardCard(key="a", title="A", url="/a/", order=2))
    cards.register(DashboardCard(key="c", title="C", url="/c/", order=1))
    cards.register(DashboardCard(key="a", title="A bis", url="/a/", order=2))

    assert [c.title for c in cards] == ["C", "A bis", "B"]
    assert len(cards) == 3 and "a" in cards
    cards.unregister("a")
    assert "a" not in cards


def test_search_page_asks_the_registered_providers(client, cantal, clean_registries):
    def find_workshops(*, actor, query, limit):
        return [SearchResult(title=f"Atelier « {query} »", url="/ateliers/1/")]

    def broken(*, actor, query, limit):
        raise RuntimeError("panne")

    clean_registries.search_providers.register(
        SearchProvider(key="test.ateliers", label="Ateliers", search=find_workshops)
    )
    clean_registries.search_providers.register(
        SearchProvider(key="test.broken", label="En panne", search=broken)
    )

    response = client.get(reverse("territory:search"), {"q": "aurillac"})

    assert response.status_code == 200
    page = html(response)
    assert "<h2>Ateliers</h2>" in page
    assert "Atelier « aurillac »" in page
    assert "En panne" not in page


# --- Error and information pages --------------------------------------------------------------


def test_404_page_is_friendly_and_french(client):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    page = html(response)
    assert "Page introuvable" in page
    assert "Revenir à la page d'accueil" in page
    assert '<main id="contenu"' in page


def test_500_page_stands_alone():
    page = html_lib.unescape(render_to_string("500.html"))

    assert '<html lang="fr">' in page
    assert "Une erreur est survenue" in page
    assert 'href="/"' in page


@pytest.mark.parametrize(
    ("name", "expected"),
    [("core:accessibility", "non conforme"), ("core:data_sources", "IGN")],
)
def test_information_pages(client, name, expected):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert expected in html(response)


def test_modules_add_their_entries_to_the_main_menu(client, db):
    page = html(client.get(reverse("core:home")))
    assert f'href="{reverse("booking:start")}"' in page
    assert "Prendre rendez-vous" in page
    # The agenda is for agents only.
    assert f'href="{reverse("booking:agenda")}"' not in page.split("</nav>")[0]
