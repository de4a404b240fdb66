"""Shared kernel models: base classes, the append-only audit log and sent notifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class DemoFlagModel(models.Model):
    """Rows created by `seed_demo` carry is_demo=True so they are marked wherever they appear."""

    is_demo = models.BooleanField(_("donnée de démonstration"), default=False, db_index=True)

    class Meta:
        abstract = True


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Le journal d'audit est en ajout seul.")

    def delete(self):
        raise PermissionError("Le journal d'audit est en ajout seul.")


class AuditLog(models.Model):
    """Who did what, when, on which record. Append-only: the ORM refuses updates and deletes,
    and a database trigger (migration 0002) refuses them too, on SQLite and PostgreSQL."""

    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # the log outlives erased accounts; it keeps actor_repr
    )
    actor_repr = models.CharField(_("auteur (texte)"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("type d'objet"), max_length=100, blank=True, db_index=True)
    target_id = models.CharField(_("identifiant d'objet"), max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(_("objet"), max_length=200, blank=True)
    data = models.JSONField(_("détails"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action} {self.target_repr}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Le journal d'audit est en ajout seul.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Le journal d'audit est en ajout seul.")


class Notification(TimeStampedModel):
    """One message to one person through one channel. Rows are created in the caller's
    transaction and sent after commit by a task; (key, channel) is unique so that a repeated
    request or a retried task never sends the same message twice."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Courriel")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("Courrier postal")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENT = "sent", _("Envoyée")
        FAILED = "failed", _("En échec")

    key = models.CharField(
        _("clé d'idempotence"),
        max_length=200,
        help_text=_("Choisie par l'appelant : une même clé n'envoie qu'un message par canal."),
    )
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("utilisateur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Only what the channel needs: the address actually used, frozen at the time of sending.
    recipient_name = models.CharField(_("destinataire"), max_length=200)
    recipient_email = models.EmailField(_("courriel du destinataire"), blank=True)
    recipient_phone = models.CharField(_("téléphone du destinataire"), max_length=20, blank=True)
    recipient_address = models.TextField(_("adresse postale du destinataire"), blank=True)
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(_("message"))
    # A message carrying a secret (login code or link) is blanked once delivered, so that the
    # database never keeps a usable secret longer than the provider needed it.
    is_sensitive = models.BooleanField(_("contenu sensible"), default=False)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    provider_message_id = models.CharField(
        _("identifiant chez le prestataire"), max_length=200, blank=True
    )
    letter_pdf = models.FileField(_("courrier (PDF)"), upload_to="letters/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel"], name="notification_unique_key_channel"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=["email", "sms", "letter"]),
                name="notification_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="notification_status_valid",
            ),
            # A sent notification always says when it was sent.
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="notification_sent_has_date",
            ),
        ]

    def __str__(self) -> str:
        # No recipient and no body here: this text is copied into the (permanent) audit log.
        return f"{self.get_channel_display()} n° {self.pk}"


class PeriodicJobRun(models.Model):
    """When each periodic job was last enqueued (see core.scheduler). The row is locked while
    deciding, so two schedulers running at once enqueue a job once."""

    key = models.CharField(_("tâche"), max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(_("dernier lancement"))

    class Meta:
        verbose_name = _("tâche périodique")
        verbose_name_plural = _("tâches périodiques")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
