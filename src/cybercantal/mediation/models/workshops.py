"""Collective workshops (ateliers): a dated session on a theme, at a level, in a place, with a
number of seats. The seats are those of a booking.Resource of kind workshop; each registration
is a booking.Booking of that resource for one participant (an account holder, or a name and a
phone), so that capacity, the waiting list, SMS reminders and letters are the booking engine's.
People who come without registering are noted as walk-ins. Closing the session records its
collective activity report, once (`activity`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Resource
from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Organisation, Place

from .activities import Activity, Beneficiary


class WorkshopSession(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        related_name="mediation_workshops",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("places de l'atelier"),
        on_delete=models.PROTECT,
        related_name="workshop_sessions",
        limit_choices_to={"kind": Resource.Kind.WORKSHOP},
    )
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("présentation"), blank=True)
    theme = models.CharField(_("thématique"), max_length=30)  # activity_vocabulary.THEMES
    level = models.CharField(_("niveau"), max_length=15, choices=Activity.Level.choices)
    place = models.ForeignKey(
        Place, verbose_name=_("lieu"), on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    capacity = models.PositiveIntegerField(_("nombre de places"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("clôturé le"), null=True, blank=True)
    activity = models.OneToOneField(
        Activity,
        verbose_name=_("compte rendu"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workshop_session",
    )

    class Meta:
        verbose_name = _("séance d'atelier")
        verbose_name_plural = _("séances d'atelier")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="workshop_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="workshop_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "start"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.start:%d/%m/%Y})"


class WorkshopWalkIn(TimeStampedModel):
    """Someone who came without registering, noted while taking attendance."""

    session = models.ForeignKey(
        WorkshopSession,
        verbose_name=_("séance"),
        on_delete=models.CASCADE,
        related_name="walk_ins",
    )
    person_name = models.CharField(_("nom"), max_length=200)
    person_phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    beneficiary = models.ForeignKey(
        Beneficiary,
        verbose_name=_("personne accompagnée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("participant sans inscription")
        verbose_name_plural = _("participants sans inscription")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.person_name
