"""The booking engine: bookable resources, when they are open, and bookings.

Vocabulary. A *resource* is anything bookable (a room, a desk pool, a cabin, a person, an
equipment kit). Its *availability rules* say when it is open and where (a mediator may be in a
different commune each day). A *booking* holds one or several resources over the same interval;
each held resource is an *allocation*, whose `blocked` interval includes the resource's buffers.
Integrity rests on allocations: the sum of active allocations of a resource never exceeds its
capacity at any instant (services lock the resource rows; on PostgreSQL an exclusion constraint
also forbids any overlap on exclusive resources — migration 0002).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Organisation, Place


class Service(TimeStampedModel):
    """Something a resource can deliver: "a desk for the day", "help with online procedures",
    "a dermatology teleconsultation". Modules add their own."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    label = models.CharField(_("libellé"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    default_duration_minutes = models.PositiveIntegerField(_("durée habituelle (min)"), default=60)

    class Meta:
        verbose_name = _("prestation")
        verbose_name_plural = _("prestations")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Resource(TimeStampedModel, DemoFlagModel):
    class Kind(models.TextChoices):
        ROOM = "room", _("Salle")
        DESK_POOL = "desk_pool", _("Espace de bureaux partagés")
        DESK = "desk", _("Bureau")
        OFFICE = "office", _("Bureau fermé")
        CABIN = "cabin", _("Cabine ou chariot de téléconsultation")
        PERSON = "person", _("Personne")
        EQUIPMENT = "equipment", _("Matériel")
        WORKSHOP = "workshop", _("Atelier collectif")

    class BookableBy(models.TextChoices):
        ANYONE = "anyone", _("Tout le monde, même sans compte")
        ACCOUNT_HOLDERS = "accounts", _("Les personnes ayant un compte")
        MEMBERS = "members", _("Les membres de la structure")
        AGENTS = "agents", _("Les agents seulement")

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    place = models.ForeignKey(
        Place,
        verbose_name=_("lieu habituel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
        help_text=_("Une règle de disponibilité peut indiquer un autre lieu (tournée itinérante)."),
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        related_name="resources",
    )
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("personne"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookable_resource",
        help_text=_("Pour une ressource de type personne : son compte."),
    )
    capacity = models.PositiveIntegerField(
        _("capacité"),
        default=1,
        help_text=_("1 : une réservation à la fois. N : N personnes en même temps."),
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("prestations"), related_name="resources", blank=True
    )
    is_active = models.BooleanField(_("réservable"), default=True)

    # Booking policy.
    slot_minutes = models.PositiveIntegerField(
        _("pas des créneaux (min)"),
        default=30,
        help_text=_("Les créneaux commencent à l'ouverture puis tous les N minutes."),
    )
    min_duration_minutes = models.PositiveIntegerField(_("durée minimale (min)"), default=30)
    max_duration_minutes = models.PositiveIntegerField(_("durée maximale (min)"), default=480)
    buffer_before_minutes = models.PositiveIntegerField(_("battement avant (min)"), default=0)
    buffer_after_minutes = models.PositiveIntegerField(_("battement après (min)"), default=0)
    min_notice_minutes = models.PositiveIntegerField(_("délai de prévenance (min)"), default=60)
    horizon_days = models.PositiveIntegerField(_("réservable jusqu'à (jours)"), default=90)
    cancellation_deadline_hours = models.PositiveIntegerField(
        _("annulation possible jusqu'à (heures avant)"), default=24
    )
    approval_required = models.BooleanField(_("validation par un agent"), default=False)
    bookable_by = models.CharField(
        _("qui peut réserver"), max_length=20, choices=BookableBy.choices, default=BookableBy.ANYONE
    )
    max_future_bookings_per_person = models.PositiveIntegerField(
        _("réservations à venir par personne (0 : sans limite)"), default=0
    )
    observes_public_holidays = models.BooleanField(_("fermé les jours fériés"), default=True)
    reminder_hours_before = models.PositiveIntegerField(
        _("rappel (heures avant ; 0 : aucun)"), default=24
    )
    # Bumped whenever one of its availability rules changes (booking.rules_cache): the search
    # keeps parsed rules in memory and knows from this number when they are stale.
    rules_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("ressource réservable")
        verbose_name_plural = _("ressources réservables")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="resource_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5), name="resource_slot_at_least_5_minutes"
            ),
            models.CheckConstraint(
                condition=models.Q(max_duration_minutes__gte=models.F("min_duration_minutes")),
                name="resource_duration_bounds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_exclusive(self) -> bool:
        return self.capacity == 1


WEEKS_OF_MONTH = frozenset({1, 2, 3, 4, 5, -1})


def parse_weeks_of_month(value: str) -> frozenset[int]:
    """ "1,3" -> {1, 3}. Unknown tokens are ignored here (the validator refuses them on input),
    so that a bad row written around the forms cannot break availability for everyone."""
    weeks = set()
    for token in (value or "").replace(" ", "").split(","):
        try:
            number = int(token)
        except ValueError:
            continue
        if number in WEEKS_OF_MONTH:
            weeks.add(number)
    return frozenset(weeks)


def validate_weeks_of_month(value: str) -> None:
    from django.core.exceptions import ValidationError

    tokens = [t for t in (value or "").replace(" ", "").split(",") if t]
    if any(not t.lstrip("-").isdigit() or int(t) not in WEEKS_OF_MONTH for t in tokens):
        raise ValidationError(
            _(
                "Indiquez des numéros de semaine du mois séparés par des virgules : 1 à 5, ou -1 "
                "pour la dernière (par exemple « 1,3 »)."
            ),
            code="invalid_weeks_of_month",
        )


class AvailabilityRule(models.Model):
    """A weekly opening interval of a resource, in local time, valid between two dates, at a
    place. `weeks_of_month` restricts it to some occurrences in the month ("1,3": the 1st and
    3rd Tuesday); empty means every week."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="availability_rules"
    )
    weekday = models.PositiveSmallIntegerField(
        _("jour"),
        choices=[
            (0, _("lundi")),
            (1, _("mardi")),
            (2, _("mercredi")),
            (3, _("jeudi")),
            (4, _("vendredi")),
            (5, _("samedi")),
            (6, _("dimanche")),
        ],
    )
    start_time = models.TimeField(_("début"))
    end_time = models.TimeField(_("fin"))
    valid_from = models.DateField(_("à partir du"), null=True, blank=True)
    valid_until = models.DateField(_("jusqu'au"), null=True, blank=True)
    weeks_of_month = models.CharField(
        _("semaines du mois"),
        max_length=20,
        blank=True,
        help_text=_(
            "Par exemple « 1,3 » pour le 1er et le 3e de chaque mois ; « 5 » pour le "
            "cinquième s'il y en a un ; « -1 » pour le dernier. Vide : toutes les semaines."
        ),
        validators=[validate_weeks_of_month],
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("lieu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Vide : le lieu habituel de la ressource."),
    )

    class Meta:
        verbose_name = _("règle de disponibilité")
        verbose_name_plural = _("règles de disponibilité")
        ordering = ["resource", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="availability_rule_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["resource", "weekday"])]

    def __str__(self) -> str:
        hours = f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return f"{self.resource} — {self.get_weekday_display()} {hours}"

    @property
    def week_numbers(self) -> frozenset[int]:
        return parse_weeks_of_month(self.weeks_of_month)


class Closure(models.Model):
    """A period when a resource, every resource of a place, or everything is closed (leave,
    works, snow). Exactly one of resource/place may be set; neither means everything."""

    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    reason = models.CharField(_("motif"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="closure_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(resource__isnull=True) | models.Q(place__isnull=True),
                name="closure_resource_or_place",
            ),
        ]
        indexes = [models.Index(fields=["start", "end"])]

    def __str__(self) -> str:
        return f"{self.reason or _('Fermeture')} ({self.start:%d/%m/%Y})"


class Booking(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("En attente de validation")
        CONFIRMED = "confirmed", _("Confirmée")
        CANCELLED = "cancelled", _("Annulée")
        ATTENDED = "attended", _("Honorée")
        NO_SHOW = "no_show", _("Absence")

    class Channel(models.TextChoices):
        WEB = "web", _("En ligne")
        PHONE = "phone", _("Par téléphone")
        DESK = "desk", _("Au guichet")
        ITINERANT = "itinerant", _("Lors d'une tournée")
        API = "api", _("Par l'API")

    # Allowed transitions of the status machine (services check them; the log records them).
    TRANSITIONS = {
        Status.PENDING: {Status.CONFIRMED, Status.CANCELLED},
        Status.CONFIRMED: {Status.ATTENDED, Status.NO_SHOW, Status.CANCELLED},
        Status.CANCELLED: set(),
        Status.ATTENDED: set(),
        Status.NO_SHOW: set(),
    }
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

    reference = models.CharField(_("référence"), max_length=12, unique=True)
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices)
    service = models.ForeignKey(
        Service,
        verbose_name=_("prestation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("lieu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    # Who it is for: an account holder, or a person without an account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pour"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    person_name = models.CharField(_("nom"), max_length=200, blank=True)
    person_phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    person_email = models.EmailField(_("courriel"), blank=True)
    channel = models.CharField(
        _("canal"), max_length=20, choices=Channel.choices, default=Channel.WEB
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("réservé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings_made",
    )
    notes = models.TextField(_("remarques"), blank=True)
    # Where it happens when not at `place` (a home visit: the person's address); `place` stays
    # the resource's base, which scopes who sees the booking. Messages and calendars say this.
    location = models.CharField(_("adresse du rendez-vous"), max_length=300, blank=True)
    participants = models.PositiveIntegerField(_("nombre de places"), default=1)
    reminder_sent_at = models.DateTimeField(_("rappel envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("réservation")
        verbose_name_plural = _("réservations")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(person_name=""),
                name="booking_has_a_person",
            ),
            models.CheckConstraint(
                condition=models.Q(participants__gte=1), name="booking_participants_positive"
            ),
        ]
        indexes = [models.Index(fields=["user", "start"]), models.Index(fields=["start"])]

    def __str__(self) -> str:
        return f"{self.reference} — {self.start:%d/%m/%Y %H:%M}"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.username if self.user else self.person_name

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class Allocation(models.Model):
    """One resource held by a booking. `blocked_start`/`blocked_end` add the resource's buffers
    to the booking's interval; `is_active` is False once the booking is cancelled, so that only
    active allocations count against capacity. `units` is the share of capacity taken (seats)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="allocations")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="allocations")
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    units = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    # Copied from the resource at booking time: the PostgreSQL exclusion constraint applies to
    # allocations of exclusive resources only.
    is_exclusive = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("ressource réservée")
        verbose_name_plural = _("ressources réservées")
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "resource"], name="allocation_one_per_resource"
            ),
            models.CheckConstraint(
                condition=models.Q(blocked_end__gt=models.F("blocked_start")),
                name="allocation_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(units__gte=1), name="allocation_units_positive"
            ),
        ]
        indexes = [
            # Availability reads "active allocations of these resources ending after the window
            # starts (and starting before it ends)": by end, so that the years of past bookings
            # are never scanned, only what lies ahead (bounded by the booking horizon).
            models.Index(
                fields=["resource", "blocked_end", "blocked_start"],
                condition=models.Q(is_active=True),
                name="allocation_active_by_end_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} — {self.booking}"


class BookingTransition(models.Model):
    """Every status change of a booking: who, when, why."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("changements de statut")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.booking} : {self.from_status or '—'} → {self.to_status}"


# --- Calendars and waiting list --------------------------------------------------------------


class CalendarFeedToken(models.Model):
    """A secret address from which a calendar application (phone, Thunderbird, Outlook) reads
    bookings as iCalendar: a person's own bookings, or, with `resource`, the bookings of a
    resource for one of its agents. Only the SHA-256 of the secret is stored, with a short
    prefix so that the owner can tell feeds apart; revoking one makes its address answer 404."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("propriétaire"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("ressource"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        help_text=_("Vide : les rendez-vous du propriétaire lui-même."),
    )
    name = models.CharField(_("nom"), max_length=100, blank=True)
    token_prefix = models.CharField(_("début du jeton"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda en ligne (iCalendar)")
        verbose_name_plural = _("agendas en ligne (iCalendar)")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name or _('Agenda')} ({self.token_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WaitingListEntry(models.Model):
    """Someone waiting for a slot: of a resource, or of a service (optionally near a place or
    within a radius of a commune), within a window, for a duration. When a matching slot frees,
    the oldest waiting entry is offered it, held for a limited time by a pending booking
    (`hold_booking`); accepting books it for the person, letting the hold expire offers it to
    the next in line (booking/waitlist.py)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("En attente")
        OFFERED = "offered", _("Créneau proposé")
        ACCEPTED = "accepted", _("Créneau accepté")
        EXPIRED = "expired", _("Proposition expirée")
        CANCELLED = "cancelled", _("Retiré de la liste")

    resource = models.ForeignKey(
        Resource,
        verbose_name=_("ressource"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waiting_list_entries",
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("prestation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waiting_list_entries",
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("lieu"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    commune = models.ForeignKey(
        "territory.Commune",
        verbose_name=_("près de la commune"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    radius_km = models.PositiveIntegerField(_("dans un rayon de (km)"), default=20)
    window_start = models.DateTimeField(_("à partir du"))
    window_end = models.DateTimeField(_("jusqu'au"))
    duration_minutes = models.PositiveIntegerField(_("durée (min)"))
    # Who it is for: an account holder, or a person without an account (name + phone).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pour"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waiting_list_entries",
    )
    person_name = models.CharField(_("nom"), max_length=200, blank=True)
    person_phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    person_email = models.EmailField(_("courriel"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inscrit par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("inscrit le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.WAITING
    )
    # The current (or last) offer.
    offered_resource = models.ForeignKey(
        Resource,
        verbose_name=_("ressource proposée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    offered_start = models.DateTimeField(_("début proposé"), null=True, blank=True)
    offered_end = models.DateTimeField(_("fin proposée"), null=True, blank=True)
    hold_booking = models.ForeignKey(
        Booking,
        verbose_name=_("créneau retenu"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hold_expires_at = models.DateTimeField(_("proposition valable jusqu'à"), null=True, blank=True)
    offer_token_hash = models.CharField(max_length=64, blank=True)
    offers_count = models.PositiveSmallIntegerField(_("propositions reçues"), default=0)
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("réservation obtenue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inscription sur liste d'attente")
        verbose_name_plural = _("listes d'attente")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resource__isnull=False) | models.Q(service__isnull=False),
                name="waitlist_resource_or_service",
            ),
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="waitlist_window_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(person_name=""),
                name="waitlist_has_a_person",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="waitlist_duration_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="offered")
                | models.Q(
                    hold_expires_at__isnull=False,
                    offered_start__isnull=False,
                    offered_end__isnull=False,
                ),
                name="waitlist_offer_is_complete",
            ),
            models.UniqueConstraint(
                fields=["offer_token_hash"],
                condition=~models.Q(offer_token_hash=""),
                name="waitlist_offer_token_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "window_start", "window_end"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]

    def __str__(self) -> str:
        what = self.resource or self.service
        return f"{what} — {self.created_at:%d/%m/%Y %H:%M}" if self.created_at else str(what)

    @property
    def display_name(self) -> str:
        if self.user_id is not None:
            return self.user.get_full_name() or self.user.get_username()
        return self.person_name
