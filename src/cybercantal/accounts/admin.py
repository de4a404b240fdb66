"""Admin of people, their memberships (roles) and credentials.

Secrets never appear: one-time logins without their hash, API tokens without theirs, and
two-factor devices without their keys. Roles are memberships, not Django groups or the
is_staff / is_superuser flags, which the admin does not offer.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.core.admin_site import (
    PlatformModelAdmin,
    PlatformTabularInline,
    ReadOnlyAdminMixin,
)

from .models import ApiToken, Membership, OneTimeLogin, PersonalDataRequest, User
from .selectors import users_matching_contact
from .services import phone_normalize, username_check


class ContactFieldsMixin:
    """The same rules as the account pages: a mobile number in E.164, e-mail and phone unique
    (case-insensitive e-mail), a username that cannot pass for an e-mail or a phone, each with
    a message in French."""

    def clean_username(self) -> str:
        inherited = getattr(super(), "clean_username", None)  # the creation form's case check
        username = inherited() if inherited else self.cleaned_data.get("username", "")
        if "username" in self.changed_data:  # an account named before the rule stays editable
            username_check(username)
        return username

    def clean_phone(self) -> str:
        phone = phone_normalize(self.cleaned_data.get("phone", ""))
        if phone and users_matching_contact(phone=phone, exclude_pk=self.instance.pk).exists():
            raise ValidationError(_("Ce numéro de téléphone est déjà utilisé par un autre compte."))
        return phone

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        if email and users_matching_contact(email=email, exclude_pk=self.instance.pk).exists():
            raise ValidationError(
                _("Cette adresse électronique est déjà utilisée par un autre compte.")
            )
        return email


class UserAdminChangeForm(ContactFieldsMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class UserAdminCreationForm(ContactFieldsMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "phone", "home_commune")


class MembershipInline(PlatformTabularInline):
    model = Membership
    fields = ("organisation", "role", "is_active")
    autocomplete_fields = ("organisation",)
    extra = 0


@admin.register(User)
class UserAdmin(PlatformModelAdmin, DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = (
        "username",
        "last_name",
        "first_name",
        "email",
        "phone",
        "home_commune",
        "role_list",
        "is_active",
        "is_demo",
    )
    list_filter = ("memberships__role", "is_active", "is_demo", "prefers_sms", "prefers_letter")
    list_select_related = ("home_commune",)
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    ordering = ("last_name", "first_name", "username")
    autocomplete_fields = ("home_commune",)
    filter_horizontal = ()
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name")}),
        (
            _("Coordonnées"),
            {"fields": ("email", "phone", "postal_address", "home_commune")},
        ),
        (_("Préférences de contact"), {"fields": ("prefers_sms", "prefers_letter")}),
        (
            _("Compte"),
            {
                "fields": (
                    "is_active",
                    "is_demo",
                    "created_by",
                    "erased_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "home_commune",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("created_by", "erased_at", "last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("memberships")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("rôles"))
    def role_list(self, user: User) -> str:
        # From the prefetched memberships: no query per row.
        roles = {m.get_role_display() for m in user.memberships.all() if m.is_active}
        return ", ".join(sorted(roles))


@admin.register(Membership)
class MembershipAdmin(PlatformModelAdmin):
    list_display = ("user", "role", "organisation", "is_active", "created_at")
    list_filter = ("role", "is_active", "organisation__kind")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__last_name", "user__first_name", "organisation__name")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("created_at", "updated_at")


@admin.register(OneTimeLogin)
class OneTimeLoginAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = ("user", "channel", "created_at", "expires_at", "used_at", "failed_attempts")
    list_filter = ("channel",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name")
    fields = ("user", "channel", "created_at", "expires_at", "used_at", "failed_attempts")
    readonly_fields = fields


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields


@admin.register(PersonalDataRequest)
class PersonalDataRequestAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    """Requests are answered on the platform's processing page, which anonymises the account
    and notifies the person in one transaction (accounts.services.erasure_request_process)."""

    list_display = ("user_repr", "status", "requested_at", "processed_at", "processed_by")
    list_filter = ("status",)
    list_select_related = ("processed_by",)
    search_fields = ("user_repr",)
    fields = (
        "user",
        "user_repr",
        "status",
        "reason",
        "requested_at",
        "processed_at",
        "processed_by",
        "response",
        "process_link",
    )
    readonly_fields = fields

    @admin.display(description=_("traitement"))
    def process_link(self, data_request: PersonalDataRequest) -> str:
        if data_request.status != PersonalDataRequest.Status.PENDING:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("accounts:erasure_request_process", args=[data_request.pk]),
            _("Traiter la demande"),
        )


class DeviceAdmin(PlatformModelAdmin):
    """Two-factor devices: seen and deleted (a person who lost their phone enrols again on
    the two-factor page), never created or edited here, and their secrets are not shown."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# django-otp's own admins show the TOTP key and a QR code of it to anyone with the model
# permission; ours replace them. Django groups are not used: roles are memberships.
for model in (TOTPDevice, StaticDevice, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
admin.site.register(TOTPDevice, DeviceAdmin)
admin.site.register(StaticDevice, DeviceAdmin)
