"""Volunteers' shifts: many tiers-lieux are kept open by volunteers. When a place says its
hours come from the shifts (TiersLieu.hours_from_shifts), the public opening hours — the
Place's opening periods, its OpenStreetMap string and the weekly rules of its spaces — are the
union of the shifts valid on a day (coworking/services/hours.py publishes them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.territory.models import OpeningPeriod

from .network import TiersLieu


class VolunteerShift(models.Model):
    tiers_lieu = models.ForeignKey(
        TiersLieu,
        verbose_name=_("tiers-lieu"),
        on_delete=models.CASCADE,
        related_name="volunteer_shifts",
    )
    # A volunteer may have no account: the name is enough to plan the week.
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bénévole (compte)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer_shifts",
    )
    volunteer_name = models.CharField(_("bénévole"), max_length=150)
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=OpeningPeriod.Weekday.choices)
    start_time = models.TimeField(_("début"))
    end_time = models.TimeField(_("fin"))
    valid_from = models.DateField(_("à partir du"))
    valid_until = models.DateField(_("jusqu'au"), null=True, blank=True)

    class Meta:
        verbose_name = _("permanence de bénévole")
        verbose_name_plural = _("permanences de bénévoles")
        ordering = ["weekday", "start_time", "volunteer_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="volunteer_shift_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="volunteer_shift_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.volunteer_name} — {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        )
