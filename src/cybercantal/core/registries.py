"""Registries through which modules plug into shared pages without being imported by them.

A module fills them in its `AppConfig.ready()`:

    from cybercantal.core.registries import DashboardCard, dashboard_cards

    class CoworkingConfig(AppConfig):
        def ready(self):
            dashboard_cards.register(
                DashboardCard(
                    key="coworking",
                    title=_("Travailler dans un tiers-lieu"),
                    description=_("Réserver un bureau ou une salle près de chez vous."),
                    url_name="coworking:home",
                    order=10,
                )
            )

The home page shows the sections (home_sections) and the dashboard cards visible to the
visitor; the search page asks every search provider; the observatory and the API's
/indicateurs read every indicator provider (indicator_providers); `manage.py seed_demo` runs
every demo seeder (demo_seeders) after core's own demo data. Removing a module from INSTALLED_APPS
removes its entries: nothing else refers to them. Keys are unique: registering a key twice
replaces the first entry (so that a `ready()` run twice, as in some test set-ups, does not
duplicate cards).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)


class _Keyed(Protocol):
    key: str
    order: int


T = TypeVar("T", bound=_Keyed)


class Registry(Generic[T]):
    """An ordered set of entries identified by their key. Thread-safe for registration."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, entry: T) -> T:
        with self._lock:
            self._entries[entry.key] = entry
        return entry

    def unregister(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def all(self) -> list[T]:
        """Entries sorted by (order, key)."""
        return sorted(self._entries.values(), key=lambda e: (e.order, e.key))

    def __iter__(self) -> Iterator[T]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def _always(request: Any) -> bool:
    return True


@dataclass(frozen=True)
class DashboardCard:
    """A card on the home page: a title, one sentence, a link.

    `url_name` is reversed at render time (with `url_kwargs`); `url` may be given instead for a
    fixed address. `is_visible(request)` decides whether this visitor sees the card (e.g. only
    signed-in members of a role)."""

    key: str
    title: str
    description: str = ""
    url_name: str = ""
    url_kwargs: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    order: int = 100
    is_visible: Callable[[Any], bool] = _always

    def resolve_url(self) -> str:
        if self.url:
            return self.url
        try:
            return reverse(self.url_name, kwargs=self.url_kwargs or None)
        except NoReverseMatch:
            logger.warning("Carte d'accueil %s : URL %s introuvable", self.key, self.url_name)
            return ""


@dataclass(frozen=True)
class NavLink:
    """An entry of the main menu, added by a module (e.g. "Prendre rendez-vous")."""

    key: str
    label: str
    url_name: str
    order: int = 100
    is_visible: Callable[[Any], bool] = _always


@dataclass(frozen=True)
class HomeSection:
    """A section of the home page rendered by a lower layer or a module (the territory's map of
    places, a module's news). `get_context(request)` returns the template's context, available
    in `template_name` as `section`; return None to leave the section out for this visitor.
    A context with `has_demo_data` true turns on the demonstration banner."""

    key: str
    template_name: str
    get_context: Callable[[Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    description: str = ""


@dataclass(frozen=True)
class SearchProvider:
    """Answers the site search for one module. `search(actor=, query=, limit=)` returns
    SearchResult objects the actor may see (providers call their own selectors)."""

    key: str
    label: str
    search: Callable[..., list[SearchResult]]
    order: int = 100


@dataclass(frozen=True)
class ProviderResults:
    provider: SearchProvider
    results: list[SearchResult]


class DemoSeedCounts(Protocol):
    """What a demo seeder did: rows per model label ("booking.Resource") in each Counter."""

    created: Counter
    updated: Counter
    unchanged: Counter


@dataclass(frozen=True)
class DemoSeeder:
    """Demo data of a module, run by `manage.py seed_demo` after core's own (organisations,
    places, accounts), in (order, key) order, inside the same transaction.

    `seed()` must be idempotent (rows found by natural key, written only when they differ) and
    returns its counts (core.demo.DemoSeedReport fits). It is refused in production with the
    rest of the demo data. Registering only a function that imports the module's demo code when
    called keeps that code out of every other process."""

    key: str
    label: str
    seed: Callable[[], DemoSeedCounts]
    order: int = 100


@dataclass(frozen=True)
class Indicator:
    """One figure of the territory's digital life for a year: "coworking.seat_days" = 8,412
    journées. `value` None means not published (unknown, or too few people to publish without
    identifying them). `description` says how it is counted, for the reader of open data."""

    key: str
    label: str
    value: float | int | None
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class IndicatorProvider:
    """A module's indicators for the observatory. `compute(year=)` returns aggregate figures
    of the whole territory, publishable as open data: the provider aggregates and leaves out
    counts small enough to identify someone; it never returns per-person rows."""

    key: str
    label: str
    compute: Callable[..., list[Indicator]]
    order: int = 100


@dataclass(frozen=True)
class ProviderIndicators:
    provider: IndicatorProvider
    indicators: list[Indicator]


@dataclass(frozen=True)
class PersonalDataHandler:
    """People a module lets see others' personal data without a role (a teleconsultation
    site's team: its rights come from the site): they may enable two-factor authentication
    like the roles of accounts.models.ROLES_HANDLING_PERSONAL_DATA."""

    key: str
    handles: Callable[[Any], bool]  # the user → whether the module shows them others' data
    order: int = 100


dashboard_cards: Registry[DashboardCard] = Registry("dashboard_cards")
home_sections: Registry[HomeSection] = Registry("home_sections")
search_providers: Registry[SearchProvider] = Registry("search_providers")
demo_seeders: Registry[DemoSeeder] = Registry("demo_seeders")
main_nav_links: Registry[NavLink] = Registry("main_nav_links")
indicator_providers: Registry[IndicatorProvider] = Registry("indicator_providers")
personal_data_handlers: Registry[PersonalDataHandler] = Registry("personal_data_handlers")


def handles_personal_data_in_a_module(user) -> bool:
    """Whether a module vouches that `user` sees others' personal data (see
    PersonalDataHandler). A module that fails is logged and does not vouch."""
    for handler in personal_data_handlers:
        try:
            if handler.handles(user):
                return True
        except Exception:
            logger.exception("Données personnelles %s : échec", handler.key)
    return False


def visible_nav_links(request) -> list[tuple[NavLink, str]]:
    """The menu entries this visitor sees, with their URL; a broken one is left out, logged."""
    links = []
    for link in main_nav_links:
        try:
            if not link.is_visible(request):
                continue
            links.append((link, reverse(link.url_name)))
        except Exception:
            logger.exception("Entrée de menu %s ignorée", link.key)
    return links


def visible_dashboard_cards(request) -> list[tuple[DashboardCard, str]]:
    """The cards this visitor may see, with their resolved URL. A card whose visibility check or
    URL fails is left out (and logged): one broken module never breaks the home page."""
    cards = []
    for card in dashboard_cards:
        try:
            if not card.is_visible(request):
                continue
        except Exception:
            logger.exception("Carte d'accueil %s : échec du test de visibilité", card.key)
            continue
        url = card.resolve_url()
        if url:
            cards.append((card, url))
    return cards


def visible_home_sections(request) -> list[tuple[HomeSection, dict[str, Any]]]:
    """The home page sections for this visitor, with their context. Unlike cards, a failing
    section is not hidden: its error surfaces (a bug to fix, not a module switched off)."""
    sections = []
    for section in home_sections:
        context = section.get_context(request)
        if context is not None:
            sections.append((section, context))
    return sections


def run_search_providers(*, actor, query: str, limit: int = 10) -> list[ProviderResults]:
    """Ask every registered provider; providers that find nothing are left out. A provider that
    fails is logged and skipped: the search page still answers."""
    answers = []
    for provider in search_providers:
        try:
            results = list(provider.search(actor=actor, query=query, limit=limit))[:limit]
        except Exception:
            logger.exception("Fournisseur de recherche %s : échec", provider.key)
            continue
        if results:
            answers.append(ProviderResults(provider, results))
    return answers


def collect_indicators(*, year: int) -> list[ProviderIndicators]:
    """Every provider's indicators for `year`. A provider that fails is logged and left out:
    the observatory still shows the others."""
    answers = []
    for provider in indicator_providers:
        try:
            indicators = list(provider.compute(year=year))
        except Exception:
            logger.exception("Indicateurs %s : échec du calcul", provider.key)
            continue
        answers.append(ProviderIndicators(provider, indicators))
    return answers
