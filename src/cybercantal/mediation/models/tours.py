"""Itinerant tours: a mediator (a booking.Resource of kind person) goes from commune to
commune — a town hall on Tuesday morning, a library on Thursday, a bus on the market square.
Each stop is a dated visit of a place (a MediationPlace with itinerance "Itinérant") and is
bookable: it holds the booking.AvailabilityRule that puts the mediator there that day."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import AvailabilityRule, Resource
from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Organisation, Place


class Tour(TimeStampedModel, DemoFlagModel):
    name = models.CharField(_("nom de la tournée"), max_length=200)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        related_name="mediation_tours",
    )
    mediator = models.ForeignKey(
        Resource,
        verbose_name=_("médiateur"),
        on_delete=models.PROTECT,
        related_name="mediation_tours",
        limit_choices_to={"kind": Resource.Kind.PERSON},
    )
    description = models.TextField(_("présentation"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tournée itinérante")
        verbose_name_plural = _("tournées itinérantes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TourStop(TimeStampedModel, DemoFlagModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Prévue")
        MOVED = "moved", _("Déplacée")
        CANCELLED = "cancelled", _("Annulée")

    tour = models.ForeignKey(
        Tour, verbose_name=_("tournée"), on_delete=models.CASCADE, related_name="stops"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("lieu de l'étape"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("jour"))
    start_time = models.TimeField(_("début"))
    end_time = models.TimeField(_("fin"))
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    # The rule that makes the mediator bookable at the place that day; removed when the stop
    # is cancelled or moved (the new stop gets its own).
    rule = models.OneToOneField(
        AvailabilityRule,
        verbose_name=_("plage réservable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tour_stop",
    )
    moved_to = models.OneToOneField(
        "self",
        verbose_name=_("remplacée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moved_from",
    )
    reason = models.CharField(_("motif du changement"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("étape de tournée")
        verbose_name_plural = _("étapes de tournée")
        ordering = ["day", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="tour_stop_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["day", "status"])]

    def __str__(self) -> str:
        return f"{self.tour} — {self.place} — {self.day:%d/%m/%Y}"
