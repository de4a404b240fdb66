"""Admin of the shared kernel: the audit log (read only) and notifications (read only, with
letters to download and print). Like every admin of the platform, for platform administrators
in a session verified with a second factor (admin_site.py)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .admin_site import PlatformModelAdmin, ReadOnlyAdminMixin
from .audit import audit_log
from .http import client_ip
from .models import AuditLog, Notification, PeriodicJobRun
from .notifications import notification_retry_unsent


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    """The log is append-only: nobody adds, changes or deletes entries through the admin."""

    list_display = ("created_at", "actor_repr", "action", "target_type", "target_repr")
    list_filter = ("action", "target_type")
    search_fields = ("actor_repr", "action", "target_id", "target_repr")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "actor_repr",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "data",
        "ip_address",
    )
    readonly_fields = fields
    # Counting a log of millions of rows on every page is slow and tells nobody anything.
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    """Notifications are written by services only. The body is not shown (it may hold a login
    code); letters are downloaded through a view that checks permission and logs the access,
    never through a public media URL."""

    list_display = (
        "created_at",
        "channel",
        "status",
        "recipient_name",
        "subject",
        "attempts",
        "sent_at",
        "letter_link",
    )
    list_filter = ("channel", "status")
    search_fields = ("key", "recipient_name", "recipient_email", "recipient_phone", "subject")
    date_hierarchy = "created_at"
    fields = (
        "key",
        "channel",
        "status",
        "user",
        "recipient_name",
        "recipient_email",
        "recipient_phone",
        "recipient_address",
        "subject",
        "attempts",
        "last_error",
        "sent_at",
        "provider_message_id",
        "letter_link",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ["retry"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Rows are read only, yet sending again what failed is the administrator's job.
        return self.admin_site.has_permission(request)

    def get_urls(self):
        return [
            path(
                "<int:pk>/courrier.pdf",
                self.admin_site.admin_view(self.letter_download),
                name="core_notification_letter",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=gettext_lazy("courrier"))
    def letter_link(self, obj: Notification) -> str:
        if not obj.letter_pdf:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:core_notification_letter", args=[obj.pk]),
            _("Télécharger le PDF"),
        )

    def letter_download(self, request: HttpRequest, pk: int) -> FileResponse:
        notification = get_object_or_404(
            self.get_queryset(request), pk=pk, channel=Notification.Channel.LETTER
        )
        if not self.has_view_permission(request, notification):
            raise PermissionDenied
        if not notification.letter_pdf:
            raise Http404(_("Ce courrier n'est pas encore prêt."))
        audit_log(
            actor=request.user,
            action="notification.letter_downloaded",
            target=notification,
            ip_address=client_ip(request),
        )
        return FileResponse(
            notification.letter_pdf.open("rb"),
            as_attachment=True,
            filename=f"courrier-{notification.pk}.pdf",
            content_type="application/pdf",
        )

    @admin.action(
        description=gettext_lazy("Relancer l'envoi des notifications non envoyées"),
        permissions=["retry"],
    )
    def retry(self, request: HttpRequest, queryset) -> None:
        count = notification_retry_unsent(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            _("%(count)d notification(s) seront renvoyées.") % {"count": count},
            messages.SUCCESS,
        )


@admin.register(PeriodicJobRun)
class PeriodicJobRunAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = ["key", "last_enqueued_at"]
    ordering = ["key"]
