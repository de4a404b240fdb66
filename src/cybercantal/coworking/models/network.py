"""The tiers-lieux network: places and what they offer, members' passes and their credits,
check-ins, and the operators' invoices.

Spaces (desk pools, meeting rooms, offices) are booking.Resource rows at the tiers-lieu's
place: the booking engine books them. Amounts are integer cents, VAT rates percentages;
credits are counted in half-days (a day is 2), so that a half-day booking uses half a day."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.booking.models import Booking, Closure, Resource
from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Organisation, Place


class TiersLieu(TimeStampedModel, DemoFlagModel):
    """A place of the network: its amenities and what the national census asks about it. Its
    address, opening hours, connectivity, accessibility and operator are the Place's."""

    class Typology(models.TextChoices):
        COWORKING = "coworking", _("Espace de coworking")
        FABLAB = "fablab", _("Atelier partagé, fab lab")
        MULTI = "multi", _("Tiers-lieu multi-activités")
        CULTURE = "culture", _("Tiers-lieu culturel")
        FOOD = "food", _("Tiers-lieu nourricier")
        SERVICES = "services", _("Tiers-lieu de services au public")

    class LegalForm(models.TextChoices):
        ASSOCIATION = "association", _("Association")
        SCIC = "scic", _("SCIC")
        SCOP = "scop", _("SCOP")
        COMMUNITY = "community", _("Collectivité ou établissement public")
        COMPANY = "company", _("Société commerciale")
        OTHER = "other", _("Autre")

    class Setting(models.TextChoices):
        RURAL = "rural", _("Rural")
        PERIURBAN = "periurban", _("Périurbain")
        URBAN = "urban", _("Urbain")

    place = models.OneToOneField(
        Place, verbose_name=_("lieu"), on_delete=models.PROTECT, related_name="tiers_lieu"
    )
    is_in_network = models.BooleanField(_("membre du réseau"), default=True)
    desk_capacity = models.PositiveIntegerField(_("postes de travail"), default=0)
    surface_m2 = models.PositiveIntegerField(_("surface (m²)"), null=True, blank=True)
    has_visio_room = models.BooleanField(_("salle de visioconférence"), default=False)
    has_printing = models.BooleanField(_("impression"), default=False)
    has_kitchen = models.BooleanField(_("cuisine"), default=False)
    has_parking = models.BooleanField(_("stationnement"), default=False)
    public_transport = models.CharField(_("transports en commun"), max_length=300, blank=True)
    lodging_nearby = models.CharField(_("hébergement à proximité"), max_length=300, blank=True)
    typology = models.CharField(
        _("typologie"), max_length=20, choices=Typology.choices, default=Typology.COWORKING
    )
    legal_form = models.CharField(
        _("forme juridique de l'exploitant"),
        max_length=20,
        choices=LegalForm.choices,
        default=LegalForm.ASSOCIATION,
    )
    setting = models.CharField(
        _("implantation"), max_length=20, choices=Setting.choices, default=Setting.RURAL
    )
    public_services_hosted = models.CharField(
        _("services publics accueillis"), max_length=300, blank=True
    )
    hours_from_shifts = models.BooleanField(
        _("horaires tirés des permanences des bénévoles"),
        default=False,
        help_text=_("Les horaires publics sont ceux où un bénévole assure une permanence."),
    )
    # Hours set by hand from a later day: the booking engine has them already (the spaces'
    # rules carry validity dates), the public text waits for that day (services.hours).
    # [{"from": "2025-09-01", "periods": [[0, "09:00", "12:00"], ...]}, ...], soonest first.
    hours_to_come = models.JSONField(_("horaires à venir"), default=list, blank=True)

    class Meta:
        verbose_name = _("tiers-lieu")
        verbose_name_plural = _("tiers-lieux")

    def __str__(self) -> str:
        return self.place.name

    @property
    def operator(self) -> Organisation:
        return self.place.organisation


class Offer(TimeStampedModel, DemoFlagModel):
    """What a place (or the network, for a network pass) sells, at its price."""

    class Kind(models.TextChoices):
        DAY = "day", _("Journée")
        HALF_DAY = "half_day", _("Demi-journée")
        BOOK = "book", _("Carnet de journées")
        MONTHLY = "monthly", _("Abonnement mensuel")
        NETWORK_PASS = "network_pass", _("Pass réseau")
        DISCOVERY = "discovery", _("Journée découverte")
        # A price, not a pass: price_cents is the hour of meeting room, TTC (services.rooms).
        ROOM_HOUR = "room_hour", _("Salle de réunion, à l'heure")

    class ConsumedOn(models.TextChoices):
        BOOKING = "booking", _("à la confirmation de la réservation")
        CHECK_IN = "check_in", _("à l'arrivée sur place")

    tiers_lieu = models.ForeignKey(
        TiersLieu,
        verbose_name=_("tiers-lieu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offers",
        help_text=_("Vide : valable dans tout le réseau."),
    )
    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("exploitant qui facture"),
        on_delete=models.PROTECT,
        related_name="coworking_offers",
    )
    label = models.CharField(_("intitulé"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    price_cents = models.PositiveIntegerField(_("prix TTC (centimes)"))
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=4,
        decimal_places=2,
        default=20,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
    )
    half_days = models.PositiveIntegerField(
        _("crédit en demi-journées"),
        default=0,
        help_text=_("Une journée = 2. 0 : sans limite pendant la validité (abonnement)."),
    )
    validity_days = models.PositiveIntegerField(_("validité (jours)"), default=1)
    consumed_on = models.CharField(
        _("crédit utilisé"), max_length=10, choices=ConsumedOn.choices, default=ConsumedOn.BOOKING
    )
    is_reduced = models.BooleanField(
        _("tarif réduit"),
        default=False,
        help_text=_("Demande un justificatif vérifié par le gestionnaire."),
    )
    reduced_for = models.CharField(_("tarif réduit pour"), max_length=200, blank=True)
    funder = models.ForeignKey(
        Organisation,
        verbose_name=_("financeur"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funded_coworking_offers",
        help_text=_("Payé par ce financeur plutôt que par la personne."),
    )
    is_active = models.BooleanField(_("en vente"), default=True)

    class Meta:
        verbose_name = _("offre")
        verbose_name_plural = _("offres")
        ordering = ["tiers_lieu", "price_cents"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(validity_days__gte=1), name="offer_validity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_network_wide(self) -> bool:
        return self.tiers_lieu_id is None


class Pass(TimeStampedModel, DemoFlagModel):
    """An offer bought by (or for) a member: valid between two days, with its credits in the
    ledger (CreditMovement). Recorded by a manager; online payment comes later."""

    class Status(models.TextChoices):
        PENDING_PROOF = "pending_proof", _("Justificatif à vérifier")
        ACTIVE = "active", _("Actif")
        CANCELLED = "cancelled", _("Annulé")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.PROTECT,
        related_name="coworking_passes",
    )
    offer = models.ForeignKey(
        Offer, verbose_name=_("offre"), on_delete=models.PROTECT, related_name="passes"
    )
    sold_at = models.ForeignKey(
        TiersLieu,
        verbose_name=_("vendu à"),
        on_delete=models.PROTECT,
        related_name="passes_sold",
    )
    valid_from = models.DateField(_("valable du"))
    valid_until = models.DateField(_("valable jusqu'au"))
    status = models.CharField(_("état"), max_length=20, choices=Status.choices)
    price_cents = models.PositiveIntegerField(_("prix TTC (centimes)"))
    funder = models.ForeignKey(
        Organisation,
        verbose_name=_("payé par"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funded_coworking_passes",
    )
    proof_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("justificatif vérifié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proof_checked_at = models.DateTimeField(_("justificatif vérifié le"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="pass_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer} — {self.member}"


class CheckIn(models.Model):
    """A member's arrival at a place on a day: one per member, place and day. `client_uuid`
    comes from the tablet page, so that a check-in queued offline and sent twice is kept once."""

    class Method(models.TextChoices):
        QR = "qr", _("QR code")
        PIN = "pin", _("Code PIN")
        MANUAL = "manual", _("À la main")

    tiers_lieu = models.ForeignKey(
        TiersLieu, verbose_name=_("tiers-lieu"), on_delete=models.PROTECT, related_name="check_ins"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("membre"),
        on_delete=models.PROTECT,
        related_name="coworking_check_ins",
    )
    day = models.DateField(_("jour"))
    at = models.DateTimeField(_("heure d'arrivée"))
    method = models.CharField(_("méthode"), max_length=10, choices=Method.choices)
    pass_used = models.ForeignKey(
        Pass,
        verbose_name=_("pass utilisé"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="check_ins",
    )
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("réservation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_uuid = models.UUIDField(_("identifiant du poste"), default=uuid.uuid4, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("arrivée")
        verbose_name_plural = _("arrivées")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tiers_lieu", "member", "day"], name="check_in_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.tiers_lieu} — {self.day:%d/%m/%Y}"


class CreditMovement(models.Model):
    """The ledger of a pass's credits, in half-days: + when bought or given back, − when used.
    The balance is the sum. A booking or a check-in consumes at most once (constraints)."""

    class Reason(models.TextChoices):
        PURCHASE = "purchase", _("Achat")
        BOOKING = "booking", _("Réservation confirmée")
        CHECK_IN = "check_in", _("Arrivée sur place")
        REFUND = "refund", _("Annulation dans les délais")
        CORRECTION = "correction", _("Correction par le gestionnaire")

    pass_account = models.ForeignKey(
        Pass, verbose_name=_("pass"), on_delete=models.PROTECT, related_name="movements"
    )
    half_days = models.IntegerField(_("demi-journées"))
    reason = models.CharField(_("motif"), max_length=20, choices=Reason.choices)
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("réservation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    check_in = models.ForeignKey(
        CheckIn,
        verbose_name=_("arrivée"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_movements",
    )
    at = models.DateTimeField(_("date"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("mouvement de crédit")
        verbose_name_plural = _("mouvements de crédit")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "reason"],
                condition=models.Q(booking__isnull=False),
                name="credit_once_per_booking_and_reason",
            ),
            models.UniqueConstraint(
                fields=["check_in"],
                condition=models.Q(check_in__isnull=False),
                name="credit_once_per_check_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.half_days:+d} ({self.get_reason_display()})"


class DeskBooking(models.Model):
    """A booking of a space paid with a pass: which pass, and how many half-days it costs.
    The ledger says whether they were consumed (CreditMovement with this booking)."""

    booking = models.OneToOneField(
        Booking, verbose_name=_("réservation"), on_delete=models.PROTECT, related_name="desk"
    )
    pass_account = models.ForeignKey(
        Pass, verbose_name=_("pass"), on_delete=models.PROTECT, related_name="desk_bookings"
    )
    half_days = models.PositiveIntegerField(_("demi-journées"))

    class Meta:
        verbose_name = _("réservation payée par un pass")
        verbose_name_plural = _("réservations payées par un pass")

    def __str__(self) -> str:
        return f"{self.booking} — {self.pass_account}"


class OfficeRental(TimeStampedModel):
    """An office (a booking.Resource of kind office) rented to a member from one day to
    another, both included (services.offices). The member holds the monthly pass it was sold
    as; the booking engine sees the office closed by `closure` for those days, so that nobody
    books it. `last_day` moves earlier when the rental ends early."""

    office = models.ForeignKey(
        Resource,
        verbose_name=_("bureau"),
        on_delete=models.PROTECT,
        related_name="coworking_rentals",
    )
    pass_account = models.OneToOneField(
        Pass, verbose_name=_("pass"), on_delete=models.PROTECT, related_name="office_rental"
    )
    closure = models.OneToOneField(
        Closure,
        verbose_name=_("fermeture dans l'agenda"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_day = models.DateField(_("premier jour"))
    last_day = models.DateField(_("dernier jour"))
    ended_early_at = models.DateTimeField(_("terminée plus tôt le"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistrée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("location de bureau")
        verbose_name_plural = _("locations de bureau")
        ordering = ["office", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="office_rental_days_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} — {self.first_day:%d/%m/%Y}–{self.last_day:%d/%m/%Y}"
