"""Operators' invoices: numbered per operator in one continuous series without gaps (the
series row is locked while a number is taken), never changed once issued — an error is
corrected by a credit note — with the seller's legal mentions copied at issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Booking
from cybercantal.core.models import TimeStampedModel
from cybercantal.territory.models import Organisation

from .network import Pass


class InvoiceSeries(models.Model):
    """The numbering of one operator: the last number given. Locked (SELECT … FOR UPDATE)
    by the service that issues, so that two invoices issued at once get consecutive numbers
    and a rolled-back issue leaves no gap."""

    operator = models.OneToOneField(
        Organisation,
        verbose_name=_("exploitant"),
        on_delete=models.PROTECT,
        related_name="invoice_series",
    )
    prefix = models.CharField(_("préfixe"), max_length=20, default="F")
    last_number = models.PositiveIntegerField(_("dernier numéro"), default=0)

    class Meta:
        verbose_name = _("série de factures")
        verbose_name_plural = _("séries de factures")

    def __str__(self) -> str:
        return f"{self.prefix} — {self.operator}"


class Invoice(TimeStampedModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Facture")
        CREDIT_NOTE = "credit_note", _("Avoir")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Émise")
        PAID = "paid", _("Payée")
        CREDITED = "credited", _("Annulée par un avoir")

    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("exploitant"),
        on_delete=models.PROTECT,
        related_name="coworking_invoices",
    )
    sequence = models.PositiveIntegerField(_("rang dans la série"))
    number = models.CharField(_("numéro"), max_length=40)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.ISSUED
    )
    issued_on = models.DateField(_("date d'émission"))
    due_on = models.DateField(_("date d'échéance"))
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("facture corrigée"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
    )
    # Who pays: the member, or a funder (discovery days, reduced offers paid by a funder).
    buyer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("client (compte)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coworking_invoices",
    )
    buyer_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("client (structure)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coworking_invoices_received",
    )
    buyer_name = models.CharField(_("client"), max_length=200)
    buyer_address = models.TextField(_("adresse du client"), blank=True)
    # The seller as it was on the day of issue (legal mentions).
    seller_name = models.CharField(_("vendeur"), max_length=200)
    seller_address = models.TextField(_("adresse du vendeur"))
    seller_siret = models.CharField(_("SIRET du vendeur"), max_length=14, blank=True)
    seller_vat_number = models.CharField(_("n° de TVA du vendeur"), max_length=20, blank=True)
    legal_mentions = models.TextField(_("mentions légales"))
    total_excl_tax_cents = models.IntegerField(_("total HT (centimes)"))
    total_tax_cents = models.IntegerField(_("TVA (centimes)"))
    total_incl_tax_cents = models.IntegerField(_("total TTC (centimes)"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("émise par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["operator", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "sequence"], name="invoice_sequence_unique_per_operator"
            ),
            models.UniqueConstraint(
                fields=["operator", "number"], name="invoice_number_unique_per_operator"
            ),
            # A credit note says which invoice it corrects; an invoice corrects nothing.
            models.CheckConstraint(
                condition=models.Q(kind="credit_note", corrects__isnull=False)
                | models.Q(kind="invoice", corrects__isnull=True),
                name="invoice_credit_note_corrects_an_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    total_incl_tax_cents=models.F("total_excl_tax_cents")
                    + models.F("total_tax_cents")
                ),
                name="invoice_totals_add_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("facture"), on_delete=models.PROTECT, related_name="lines"
    )
    label = models.CharField(_("désignation"), max_length=300)
    quantity = models.DecimalField(_("quantité"), max_digits=8, decimal_places=2)
    unit_price_excl_tax_cents = models.IntegerField(_("prix unitaire HT (centimes)"))
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    total_excl_tax_cents = models.IntegerField(_("total HT (centimes)"))
    total_tax_cents = models.IntegerField(_("TVA (centimes)"))
    pass_sold = models.ForeignKey(
        Pass,
        verbose_name=_("pass"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )

    class Meta:
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        ordering = ["invoice", "id"]

    def __str__(self) -> str:
        return self.label


class Payment(TimeStampedModel):
    class Method(models.TextChoices):
        CASH = "cash", _("Espèces")
        CARD = "card", _("Carte bancaire au comptoir")
        TRANSFER = "transfer", _("Virement")
        CHEQUE = "cheque", _("Chèque")
        ONLINE = "online", _("Paiement en ligne")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("facture"), on_delete=models.PROTECT, related_name="payments"
    )
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    method = models.CharField(_("moyen de paiement"), max_length=20, choices=Method.choices)
    received_on = models.DateField(_("reçu le"))
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["received_on", "id"]


class RoomBookingInvoice(models.Model):
    """Which invoice billed a meeting-room booking (services.rooms.invoice_for_booking). Kept
    beside the invoice rather than on its line: issued lines never change (invoicing/guards.py
    and the database triggers of migration 0002). A booking is billed again only once its
    invoice is credited."""

    booking = models.ForeignKey(
        Booking,
        verbose_name=_("réservation"),
        on_delete=models.PROTECT,
        related_name="coworking_room_invoices",
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("facture"),
        on_delete=models.PROTECT,
        related_name="room_bookings",
    )

    class Meta:
        verbose_name = _("facture de salle")
        verbose_name_plural = _("factures de salle")
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "invoice"], name="room_booking_invoice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking} — {self.invoice}"
