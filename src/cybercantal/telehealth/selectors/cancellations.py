"""Reads for cancelling a site's or a practitioner's teleconsultations over a range of days
(a snow day, a sick doctor, a broken cart): who may do it for which site or agenda, the range
rules, and what would be cancelled. The same people as services/cancellations.py: telehealth
staff for anyone, a site's coordinators for their site, a practitioner for their own agenda."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.booking.errors import BookingRuleError

from ..models import Consultation, Practitioner, Site
from ..perms import coordinated_site_ids, is_telehealth_staff
from ..services.consultations import BOOKING_HORIZON_DAYS

# A quarter: long enough for a doctor's leave, short enough that a typing error in the year
# does not wipe out a year of sessions.
MAX_RANGE_DAYS = 92


class RangeCancelReason(models.TextChoices):
    # A short closed list rather than free text: the reason is kept in the booking and the
    # audit log, where a free text could end up naming a patient or their condition.
    WEATHER = "intemperies", gettext_lazy("Intempéries")
    PRACTITIONER_UNAVAILABLE = "medecin_indisponible", gettext_lazy("Médecin indisponible")
    EQUIPMENT_FAILURE = "panne_materiel", gettext_lazy("Panne du matériel")
    SITE_CLOSED = "site_ferme", gettext_lazy("Site fermé")
    OTHER = "autre", gettext_lazy("Autre")


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def may_cancel_range(actor, *, site: Site | None = None, practitioner=None) -> bool:
    """Cancel the sessions of `site` (its coordinators, staff) or of `practitioner` (the
    practitioner themselves, staff). Nurses and pharmacists cancel one session at a time."""
    if not _authenticated(actor):
        return False
    if is_telehealth_staff(actor):
        return True
    if site is not None:
        return site.pk in coordinated_site_ids(actor)
    if practitioner is not None:
        return practitioner.user_id == actor.pk
    return False


def cancellable_sites(*, actor) -> QuerySet[Site]:
    """The sites whose sessions the actor may cancel in one go (in service or not: a site
    already out of service may still have sessions left to cancel)."""
    if not _authenticated(actor):
        return Site.objects.none()
    sites = Site.objects.select_related("place")
    if is_telehealth_staff(actor):
        return sites
    return sites.filter(pk__in=coordinated_site_ids(actor))


def cancellable_practitioners(*, actor) -> QuerySet[Practitioner]:
    """The agendas the actor may clear: all for staff, their own for a practitioner."""
    if not _authenticated(actor):
        return Practitioner.objects.none()
    practitioners = Practitioner.objects.select_related("user")
    if is_telehealth_staff(actor):
        return practitioners.order_by("user__last_name", "user__first_name", "pk")
    return practitioners.filter(user=actor)


def check_range(first_day: dt.date, last_day: dt.date, *, today: dt.date) -> None:
    """Raise BookingRuleError when the range cannot be cancelled. Past days are refused: a
    session that took place or did not is closed from its page, so the figures stay true."""
    if last_day < first_day:
        raise BookingRuleError(_("Le dernier jour doit être le premier jour ou le suivre."))
    if first_day < today:
        raise BookingRuleError(
            _(
                "Le premier jour ne peut pas être passé : clôturez les séances passées depuis "
                "leur page (non tenue, réalisée)."
            )
        )
    if last_day > today + dt.timedelta(days=BOOKING_HORIZON_DAYS):
        raise BookingRuleError(
            _("Aucune téléconsultation ne se réserve si loin : choisissez des jours de l'année.")
        )
    if (last_day - first_day).days + 1 > MAX_RANGE_DAYS:
        raise BookingRuleError(
            _("Annulez au plus %(days)d jours à la fois.") % {"days": MAX_RANGE_DAYS}
        )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _planned(*, site: Site | None, practitioner) -> QuerySet[Consultation]:
    if (site is None) == (practitioner is None):
        raise BookingRuleError(_("Choisissez un site ou un médecin (l'un des deux)."))
    planned = Consultation.objects.filter(status=Consultation.Status.PLANNED)
    if site is not None:
        return planned.filter(site=site)
    return planned.filter(practitioner=practitioner)


def planned_in_range(
    *, site: Site | None = None, practitioner=None, first_day: dt.date, last_day: dt.date
) -> QuerySet[Consultation]:
    """The planned consultations of the site or practitioner starting on those local days
    (inclusive). Not scoped: for the service, once it has checked may_cancel_range."""
    return _planned(site=site, practitioner=practitioner).filter(
        scheduled_start__gte=_day_start(first_day),
        scheduled_start__lt=_day_start(last_day + dt.timedelta(days=1)),
    )


def range_preview(
    *,
    actor,
    site: Site | None = None,
    practitioner=None,
    first_day: dt.date,
    last_day: dt.date,
) -> QuerySet[Consultation]:
    """What consultations_cancel_range would cancel, for someone who may do it (nothing for
    anyone else), earliest first, with what the list shows."""
    if not may_cancel_range(actor, site=site, practitioner=practitioner):
        return Consultation.objects.none()
    return (
        planned_in_range(
            site=site, practitioner=practitioner, first_day=first_day, last_day=last_day
        )
        .select_related("site__place", "practitioner__user", "specialty", "patient")
        .order_by("scheduled_start", "pk")
    )


def planned_consultations_count(
    *, site: Site | None = None, practitioner=None, from_day: dt.date
) -> int:
    """How many consultations of the site or practitioner are still planned from `from_day`
    (local day) on: taking them out of service is refused while there are any. Not scoped, a
    count names nobody; the caller has checked who asks."""
    return (
        _planned(site=site, practitioner=practitioner)
        .filter(scheduled_start__gte=_day_start(from_day))
        .count()
    )
