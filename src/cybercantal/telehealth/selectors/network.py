"""Reads of the network's set-up pages and of the connectivity test, scoped to the actor
through telehealth.perms: staff of the Département see the whole network; a site's coordinator
sees its equipment; whoever may book at a site (perms.may_book_at) sees and runs its
connectivity tests; anyone else sees nothing."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from cybercantal.territory.models import Place

from ..models import (
    AssistingProfessional,
    ConnectivityTest,
    Equipment,
    Practitioner,
    ReferenceHospital,
    Site,
    Specialty,
)
from ..perms import assisted_site_ids, coordinated_site_ids, is_telehealth_staff

RECENT_TESTS = 10


def _authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


# --- Connectivity --------------------------------------------------------------------------------


def connectivity_sites(*, actor) -> QuerySet[Site]:
    """The sites whose connection the actor may test: the same people as perms.may_book_at
    (coordinators, assisting professionals, staff),
    whether the site is in service or not (a site is tested before it opens)."""
    if not _authenticated(actor):
        return Site.objects.none()
    sites = Site.objects.select_related("place__commune")
    if is_telehealth_staff(actor):
        return sites
    return sites.filter(pk__in=coordinated_site_ids(actor) | assisted_site_ids(actor))


def may_test_connectivity(actor) -> bool:
    """Whether the actor may test at least one site: the gate of the measuring endpoints."""
    return connectivity_sites(actor=actor).exists()


def connectivity_tests_recent(*, site: Site, limit: int = RECENT_TESTS):
    """The site's last `limit` tests, newest first, with who measured them. The caller has
    checked that the actor may see the site (connectivity_sites)."""
    return list(
        ConnectivityTest.objects.filter(site=site)
        .select_related("measured_by")
        .order_by("-measured_at", "-pk")[:limit]
    )


# --- Network set-up (staff) ----------------------------------------------------------------------


def network_site_list(*, actor) -> QuerySet[Site]:
    """Every site with its commune, reference hospital, number of devices and of devices out of
    order, for staff; nothing for anyone else."""
    if not is_telehealth_staff(actor):
        return Site.objects.none()
    return (
        Site.objects.select_related("place__commune", "reference_hospital")
        .annotate(
            equipment_count=Count("equipment", distinct=True),
            out_of_order_count=Count(
                "equipment", filter=Q(equipment__in_service=False), distinct=True
            ),
        )
        .order_by("place__name", "pk")
    )


def network_site_get(*, actor, site_id) -> Site | None:
    """A site for its edit page (staff only)."""
    if not is_telehealth_staff(actor):
        return None
    return (
        Site.objects.select_related("place__commune", "place__organisation", "reference_hospital")
        .prefetch_related("coordinators")
        .filter(pk=site_id)
        .first()
    )


def places_for_new_site(*, actor) -> QuerySet[Place]:
    """The places a new site may be set up in: run by an organisation, not yet a site."""
    if not is_telehealth_staff(actor):
        return Place.objects.none()
    return (
        Place.objects.filter(organisation__isnull=False, telehealth_site__isnull=True)
        .select_related("commune", "organisation")
        .order_by("name", "pk")
    )


def equipment_sites(*, actor) -> QuerySet[Site]:
    """The sites whose equipment page the actor may open: every site for staff, their own
    sites for coordinators."""
    if not _authenticated(actor):
        return Site.objects.none()
    sites = Site.objects.select_related("place__commune")
    if is_telehealth_staff(actor):
        return sites
    return sites.filter(pk__in=coordinated_site_ids(actor))


def site_equipment(*, site: Site) -> QuerySet[Equipment]:
    return Equipment.objects.filter(site=site).order_by("kind", "pk")


def specialty_list(*, actor) -> QuerySet[Specialty]:
    if not is_telehealth_staff(actor):
        return Specialty.objects.none()
    return Specialty.objects.annotate(practitioner_count=Count("practitioners")).order_by(
        "label", "pk"
    )


def practitioner_list(*, actor) -> QuerySet[Practitioner]:
    if not is_telehealth_staff(actor):
        return Practitioner.objects.none()
    return (
        Practitioner.objects.select_related("user", "resource__organisation")
        .prefetch_related("specialties")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def assistant_list(*, actor) -> QuerySet[AssistingProfessional]:
    if not is_telehealth_staff(actor):
        return AssistingProfessional.objects.none()
    return (
        AssistingProfessional.objects.select_related("user")
        .prefetch_related("sites__place")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def hospital_list(*, actor) -> QuerySet[ReferenceHospital]:
    if not is_telehealth_staff(actor):
        return ReferenceHospital.objects.none()
    return ReferenceHospital.objects.annotate(site_count=Count("sites")).order_by("name", "pk")


def account_by_identifier(identifier: str):
    """The active account an identifier designates, for the set-up forms (staff only): the
    account with that username, otherwise the one with that e-mail address (addresses are
    unique); None when there is none. Case is ignored."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    value = (identifier or "").strip()
    if not value:
        return None
    return (
        User.objects.filter(username__iexact=value, is_active=True).first()
        or User.objects.filter(email__iexact=value, is_active=True).first()
    )
