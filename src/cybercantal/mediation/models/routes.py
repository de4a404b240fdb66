"""Home visits: a booking of a mediator (a booking.Resource of kind person) inside a half-day
window — the morning (9h–12h) or the afternoon (14h–17h) — at the person's address. The person
is promised the window; the exact time comes from the day's route (services/routes.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Booking
from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Commune


class HomeVisit(TimeStampedModel):
    class Window(models.TextChoices):
        MORNING = "matin", _("Le matin (9h–12h)")
        AFTERNOON = "apres_midi", _("L'après-midi (14h–17h)")

    booking = models.OneToOneField(
        Booking, verbose_name=_("rendez-vous"), on_delete=models.CASCADE, related_name="home_visit"
    )
    window = models.CharField(_("demi-journée"), max_length=12, choices=Window.choices)
    address = models.CharField(_("adresse"), max_length=300)
    commune = models.ForeignKey(
        Commune, verbose_name=_("commune"), on_delete=models.PROTECT, related_name="+"
    )
    # Without geocoding, the commune's reference point (its town hall, roughly).
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))

    class Meta:
        verbose_name = _("visite à domicile")
        verbose_name_plural = _("visites à domicile")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="home_visit_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address}, {self.commune}"
