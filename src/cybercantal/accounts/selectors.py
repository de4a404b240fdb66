"""Reads on accounts, scoped to the actor."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.core.notifications.sms import normalize_phone

from .models import Membership, PersonalDataRequest
from .perms import can_process_erasure, is_authenticated

User = get_user_model()


def user_find_by_identifier(*, identifier: str) -> "User | None":
    """The active account an identifier designates: a mobile number in any usual writing
    ("06 12 34 56 78", "+33…"), an e-mail address or a username (both case-insensitive).

    The kind of input decides what is tried first, so that no account can shadow another's
    contact: a phone-like input matches a phone before a username, an input with "@" matches
    an e-mail before a username (usernames are never phone-like nor contain "@": see
    services.username_check; the fallback serves accounts named before that rule).

    For login only, before anyone is signed in: callers never tell the visitor whether it
    matched."""
    value = (identifier or "").strip()
    if not value:
        return None
    active = User.objects.filter(is_active=True, erased_at__isnull=True)
    user = None
    phone = phone_to_e164(value)
    if phone:
        user = active.filter(phone=phone).first()
    elif "@" in value:
        user = active.filter(email__iexact=value).first()
    if user is None:
        user = active.filter(username__iexact=value).first()
    return user


def user_get_active(*, user_id: int | None) -> "User | None":
    """The active, not erased account with this id (a login waiting for its second factor
    keeps the id in the session), or None."""
    if not user_id:
        return None
    return User.objects.filter(pk=user_id, is_active=True, erased_at__isnull=True).first()


def phone_to_e164(value: str) -> str | None:
    """A valid phone number written in any usual way, in E.164; None if it is not one."""
    if not value or any(ch.isalpha() for ch in value):
        return None
    try:
        return normalize_phone(value)
    except ValueError:
        return None


def two_factor_has_device(user) -> bool:
    """Whether the person has a confirmed two-factor device (authenticator or backup codes)."""
    return is_authenticated(user) and any(devices_for_user(user, confirmed=True))


def two_factor_authenticator(*, user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if any."""
    if not is_authenticated(user):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def membership_list(*, actor) -> QuerySet[Membership]:
    """The actor's own active memberships, with their organisations."""
    if not is_authenticated(actor):
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=actor, is_active=True)
        .select_related("organisation", "organisation__commune")
        .order_by("organisation__name", "role")
    )


def erasure_request_list(
    *, actor, status: str | None = PersonalDataRequest.Status.PENDING
) -> QuerySet[PersonalDataRequest]:
    """Erasure requests, for platform administrators only (oldest first: they are processed in
    order)."""
    if not can_process_erasure(actor):
        raise PermissionDenied
    requests = PersonalDataRequest.objects.select_related("user", "processed_by")
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("requested_at", "pk")


def erasure_request_get(*, actor, request_id: int) -> PersonalDataRequest | None:
    if not can_process_erasure(actor):
        raise PermissionDenied
    return PersonalDataRequest.objects.select_related("user").filter(pk=request_id).first()


def erasure_request_pending_for(*, actor) -> PersonalDataRequest | None:
    """The actor's own pending erasure request, if any."""
    if not is_authenticated(actor):
        return None
    return PersonalDataRequest.objects.filter(
        user=actor, status=PersonalDataRequest.Status.PENDING
    ).first()


def users_matching_contact(*, email: str = "", phone: str = "", exclude_pk=None) -> QuerySet:
    """Accounts already using this e-mail (case-insensitive) or phone (E.164): both are unique
    identifiers for login."""
    condition = Q()
    if email:
        condition |= Q(email__iexact=email)
    if phone:
        condition |= Q(phone=phone)
    if not condition:
        return User.objects.none()
    users = User.objects.filter(condition)
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users
