"""The Django admin, for platform administrators only.

Platform administration is a role held through a membership (accounts.Role.PLATFORM_ADMIN), not
Django's is_staff / is_superuser flags, and it requires a session verified with a second factor
(django-otp). The site checks both on every admin request; the model admins of the platform
(PlatformModelAdmin) grant their views to whoever passes that check, so that no per-model Django
permission has to be handed out, and they log every change in the audit log.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .audit import audit_log
from .http import client_ip

# accounts.Role.PLATFORM_ADMIN, as a string: core sits below accounts and does not import it.
PLATFORM_ADMIN_ROLE = "platform_admin"


def is_platform_admin_session(request: HttpRequest) -> bool:
    """An active person holding the platform administrator role, in a session verified with
    a second factor (django_otp.middleware.OTPMiddleware provides user.is_verified)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    is_verified = getattr(user, "is_verified", None)
    return user.has_role(PLATFORM_ADMIN_ROLE) and is_verified is not None and is_verified()


class CyberCantalAdminSite(admin.AdminSite):
    index_title = _("Administration de la plateforme")
    site_url = "/"

    @property
    def site_header(self) -> str:
        return _("Administration — %(platform)s") % {
            "platform": settings.CYBERCANTAL_BRANDING["platform_name"]
        }

    @property
    def site_title(self) -> str:
        return self.site_header

    def has_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin_session(request)

    def login(self, request: HttpRequest, extra_context=None):
        """The platform has a single login page, with rate limiting and the second factor:
        the admin sends there instead of offering its own form. Someone already signed in but
        not allowed here gets a 403 rather than a login page that would send them back."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            raise PermissionDenied(_("L'administration est réservée aux administrateurs."))
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, settings.LOGIN_URL)


class PlatformAdminPermissions:
    """For model admins and inlines: what the site lets in may view, add, change and delete.
    A read-only admin overrides the methods it refuses (returning False)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)


class PlatformModelAdmin(PlatformAdminPermissions, admin.ModelAdmin):
    """Base of every model admin of the platform. Changes made through the admin are written
    to the audit log (in the admin's transaction), besides Django's own admin history."""

    # A web address typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def log_addition(self, request, obj, message):
        audit_log(actor=request.user, action="admin.add", target=obj, ip_address=client_ip(request))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_log(
            actor=request.user,
            action="admin.change",
            target=obj,
            data={"changes": message},
            ip_address=client_ip(request),
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_log(
                actor=request.user, action="admin.delete", target=obj, ip_address=client_ip(request)
            )
        return super().log_deletions(request, queryset)


class PlatformTabularInline(PlatformAdminPermissions, admin.TabularInline):
    pass


class ReadOnlyAdminMixin:
    """Rows written by services only: the admin shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
