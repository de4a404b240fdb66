"""Online payment attempts: one row per checkout started with the configured payment provider
(coworking/payments/). The row is what the return page reads and what the provider's verified
notification updates; the money itself is recorded as a Payment (method "online") by the
invoicing service, once, when the notification says the attempt is paid."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import TimeStampedModel

from .invoices import Invoice, Payment


class OnlinePayment(TimeStampedModel):
    class Status(models.TextChoices):
        # The provider has not been reached yet, or did not answer (then `message` says why).
        CREATED = "created", _("En préparation")
        PENDING = "pending", _("En attente de confirmation")
        PAID = "paid", _("Payé")
        FAILED = "failed", _("Refusé")
        CANCELLED = "cancelled", _("Abandonné")
        # The provider says paid but the amount or the invoice does not match what is due:
        # no Payment is recorded, a manager must look (refund or manual recording).
        ANOMALY = "anomaly", _("Anomalie à vérifier")

    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("facture"),
        on_delete=models.PROTECT,
        related_name="online_payments",
    )
    # Our own reference, given to the provider and used in the return address.
    reference = models.UUIDField(_("référence"), default=uuid.uuid4, unique=True, editable=False)
    provider_key = models.CharField(_("prestataire de paiement"), max_length=50)
    provider_reference = models.CharField(
        _("référence chez le prestataire"), max_length=200, blank=True
    )
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.CREATED
    )
    redirect_url = models.URLField(_("adresse de paiement"), max_length=2000, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lancé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("paiement enregistré"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="online_payment",
    )
    notified_at = models.DateTimeField(_("notifié le"), null=True, blank=True)
    paid_at = models.DateTimeField(_("payé le"), null=True, blank=True)
    message = models.TextField(_("observation"), blank=True)

    class Meta:
        verbose_name = _("paiement en ligne")
        verbose_name_plural = _("paiements en ligne")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A provider's reference names one checkout: the notification finds it by it.
            models.UniqueConstraint(
                fields=["provider_key", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="online_payment_provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="online_payment_amount_positive"
            ),
            # Only a paid attempt points at the Payment it recorded.
            models.CheckConstraint(
                condition=models.Q(payment__isnull=True) | models.Q(status="paid"),
                name="online_payment_payment_only_when_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} — {self.get_status_display()}"
