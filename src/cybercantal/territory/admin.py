"""Admin of the territory: reference data (EPCI, communes), organisations and places."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cybercantal.core.admin_site import PlatformModelAdmin, PlatformTabularInline
from cybercantal.core.text import normalize_search

from .models import Commune, Epci, OpeningPeriod, Organisation, Place, PlaceKind

REFERENCE_DATA_NOTE = _(
    "Données de référence chargées par « manage.py load_territory » : une correction faite "
    "ici est remplacée au prochain chargement si la source dit autre chose."
)


class ReferenceDataAdmin(PlatformModelAdmin):
    """EPCI and communes come from data/territories/ through load_territory: the admin may
    correct them but not add or delete them (the loader does, keeping communes in use)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Epci)
class EpciAdmin(ReferenceDataAdmin):
    list_display = ("name", "siren", "commune_count")
    search_fields = ("name", "siren")
    readonly_fields = ("siren", "created_at", "updated_at")
    fields = ("name", "siren", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Epci]:
        return super().get_queryset(request).annotate(commune_count=Count("communes"))

    @admin.display(description=_("communes"), ordering="commune_count")
    def commune_count(self, epci: Epci) -> int:
        return epci.commune_count


@admin.register(Commune)
class CommuneAdmin(ReferenceDataAdmin):
    list_display = ("name", "insee_code", "postal_code_display", "population", "epci")
    list_filter = ("epci", "arrondissement")
    list_select_related = ("epci",)
    search_fields = ("name", "insee_code", "postal_codes")
    search_help_text = _("Nom (avec ou sans accents), code INSEE ou code postal.")
    # The outline is a large GeoJSON document: neither edited nor loaded here.
    fieldsets = (
        (None, {"fields": ("name", "insee_code", "postal_codes", "epci", "population")}),
        (
            _("Situation"),
            {"fields": ("department_code", "arrondissement", "latitude", "longitude", "area_km2")},
        ),
        (None, {"fields": ("created_at", "updated_at"), "description": REFERENCE_DATA_NOTE}),
    )
    readonly_fields = ("insee_code", "department_code", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Commune]:
        return super().get_queryset(request).defer("outline")

    def get_search_results(self, request, queryset, search_term):
        """Also match the accent- and case-free name: "VIC SUR CERE" finds Vic-sur-Cère."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if needle := normalize_search(search_term):
            queryset |= self.model.objects.filter(search_name__contains=needle)
        return queryset, may_have_duplicates

    @admin.display(description=_("codes postaux"), ordering="postal_codes")
    def postal_code_display(self, commune: Commune) -> str:
        return ", ".join(commune.postal_code_list)


@admin.register(Organisation)
class OrganisationAdmin(PlatformModelAdmin):
    list_display = ("name", "kind", "commune", "siret", "is_demo")
    list_filter = ("kind", "is_demo")
    list_select_related = ("commune",)
    search_fields = ("name", "siret", "commune__name")
    autocomplete_fields = ("commune", "epci")
    fieldsets = (
        (None, {"fields": ("name", "kind", "siret", "commune", "epci")}),
        (_("Coordonnées"), {"fields": ("address", "email", "phone", "website")}),
        (_("Suivi"), {"fields": ("is_demo", "created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")


class OpeningPeriodInline(PlatformTabularInline):
    model = OpeningPeriod
    extra = 0


@admin.register(Place)
class PlaceAdmin(PlatformModelAdmin):
    list_display = ("name", "commune", "organisation", "kind_list", "is_public", "is_demo")
    list_filter = (
        "kinds",
        "is_public",
        "connectivity",
        "accessibility",
        "commune__epci",
        "is_demo",
    )
    list_select_related = ("commune", "organisation")
    search_fields = ("name", "address", "commune__name", "organisation__name")
    autocomplete_fields = ("commune", "organisation")
    filter_horizontal = ("kinds",)
    inlines = (OpeningPeriodInline,)
    fieldsets = (
        (None, {"fields": ("name", "kinds", "organisation", "is_public", "description")}),
        (
            _("Adresse"),
            {
                "fields": (
                    "address",
                    "address_complement",
                    "postal_code",
                    "commune",
                    "latitude",
                    "longitude",
                )
            },
        ),
        (
            _("Accueil"),
            {
                "fields": (
                    "opening_hours",
                    "accessibility",
                    "accessibility_details",
                    "phone",
                    "email",
                    "website",
                )
            },
        ),
        (_("Connexion"), {"fields": ("connectivity", "download_mbps", "has_public_wifi")}),
        (_("Suivi"), {"fields": ("is_demo", "created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Place]:
        return super().get_queryset(request).prefetch_related("kinds")

    @admin.display(description=_("types"))
    def kind_list(self, place: Place) -> str:
        return ", ".join(kind.label for kind in place.kinds.all())


@admin.register(PlaceKind)
class PlaceKindAdmin(PlatformModelAdmin):
    list_display = ("label", "code", "color", "order")
    list_editable = ("order",)
    search_fields = ("label", "code")
