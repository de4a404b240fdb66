"""People, their roles (held through memberships of organisations) and their credentials."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from cybercantal.core.models import DemoFlagModel, TimeStampedModel
from cybercantal.territory.models import Commune, Organisation


class Role(models.TextChoices):
    RESIDENT = "resident", _("Usager")
    TIERS_LIEU_MANAGER = "tiers_lieu_manager", _("Gestionnaire de tiers-lieu")
    MEDIATOR = "mediator", _("Médiateur numérique")
    PRACTITIONER = "practitioner", _("Médecin téléconsultant")
    ASSISTING_PROFESSIONAL = (
        "assisting_professional",
        _("Professionnel assistant (infirmier, pharmacien)"),
    )
    TEACHER = "teacher", _("Enseignant")
    SCHOOL_DIRECTOR = "school_director", _("Directeur d'école")
    PARENT = "parent", _("Parent")
    PUPIL = "pupil", _("Élève")
    SUPPORT_TECHNICIAN = "support_technician", _("Technicien d'assistance")
    DEPARTMENT_AGENT = "department_agent", _("Agent du Département")
    ELECTED_OFFICIAL = "elected_official", _("Élu")
    PLATFORM_ADMIN = "platform_admin", _("Administrateur de la plateforme")


# Roles whose holders see other people's personal data: they may enable TOTP two-factor
# authentication. Platform administrators must (enforced by RequireTwoFactorMiddleware).
ROLES_HANDLING_PERSONAL_DATA = frozenset(
    {
        Role.TIERS_LIEU_MANAGER,
        Role.MEDIATOR,
        Role.PRACTITIONER,
        Role.ASSISTING_PROFESSIONAL,
        Role.SCHOOL_DIRECTOR,
        Role.TEACHER,
        Role.SUPPORT_TECHNICIAN,
        Role.DEPARTMENT_AGENT,
        Role.PLATFORM_ADMIN,
    }
)
ROLES_REQUIRING_TWO_FACTOR = frozenset({Role.PLATFORM_ADMIN})


class CyberCantalUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser, DemoFlagModel):
    """A person. E-mail and phone are both optional: an agent may create an account at a desk
    or over the phone for someone who has neither."""

    email = models.EmailField(_("courriel"), blank=True, default="")
    # E.164 (+33612345678), normalised by accounts.services; empty when the person has none.
    phone = models.CharField(_("téléphone mobile"), max_length=20, blank=True, default="")
    home_commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune de résidence"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "self",
        verbose_name=_("créé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts_created",
        help_text=_("L'agent qui a créé le compte pour le compte de la personne."),
    )
    prefers_sms = models.BooleanField(_("préfère être contacté par SMS"), default=False)
    prefers_letter = models.BooleanField(_("préfère recevoir des courriers papier"), default=False)
    postal_address = models.TextField(_("adresse postale"), blank=True)
    erased_at = models.DateTimeField(_("effacé le"), null=True, blank=True)

    objects = CyberCantalUserManager()

    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
            models.UniqueConstraint(
                "phone", condition=~models.Q(phone=""), name="user_phone_unique"
            ),
            models.UniqueConstraint(Lower("username"), name="user_username_unique_ci"),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return full or self.username

    def role_codes(self) -> set[str]:
        """The roles this person holds through active memberships (cached per instance)."""
        if not hasattr(self, "_role_codes"):
            self._role_codes = (
                set(self.memberships.filter(is_active=True).values_list("role", flat=True))
                if self.pk
                else set()
            )
        return self._role_codes

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes() & set(roles))


class Membership(TimeStampedModel):
    """A person holds a role in an organisation (a mediator at a France Services, a manager of
    a tiers-lieu association, an agent of the Département)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("rôle"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("appartenance")
        verbose_name_plural = _("appartenances")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class OneTimeLogin(models.Model):
    """A login link sent by e-mail or a code sent by SMS. Only a hash is stored."""

    class Channel(models.TextChoices):
        EMAIL_LINK = "email_link", _("Lien par courriel")
        SMS_CODE = "sms_code", _("Code par SMS")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_logins"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    secret_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("connexion à usage unique")
        verbose_name_plural = _("connexions à usage unique")
        indexes = [models.Index(fields=["user", "channel", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} — {self.user}"


class ApiToken(models.Model):
    """A personal API token. The secret is shown once; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début du jeton"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PersonalDataRequest(models.Model):
    """A person's request to erase their data (GDPR art. 17), processed by an administrator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        DONE = "done", _("Traitée")
        REFUSED = "refused", _("Refusée")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="data_requests"
    )
    user_repr = models.CharField(max_length=200)
    status = models.CharField(
        _("statut"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("motif"), blank=True)
    requested_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    processed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.TextField(_("réponse"), blank=True)

    class Meta:
        verbose_name = _("demande d'effacement")
        verbose_name_plural = _("demandes d'effacement")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="one_pending_erasure_request_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_repr} — {self.get_status_display()}"
