"""The communes of the ARS's priority zones (zones d'intervention prioritaire), as dated rows:
the eligibility helper's exception to territorial anchoring reads the zoning in force on the
consultation's day. Staff keep it from the ARS's published zoning (arrêté du directeur général
de l'ARS); no row at all means the platform has not been told, and the helper says so."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Commune


class PriorityZoneCommune(TimeStampedModel):
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        related_name="telehealth_priority_zones",
    )
    valid_from = models.DateField(_("en zone depuis le"))
    valid_until = models.DateField(_("jusqu'au (inclus)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modifié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("commune en zone prioritaire")
        verbose_name_plural = _("communes en zone prioritaire")
        ordering = ["commune__name", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "valid_from"], name="telehealth_zone_commune_start_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.commune} ({self.valid_from:%d/%m/%Y})"
