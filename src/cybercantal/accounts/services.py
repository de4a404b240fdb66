"""Every write on accounts: logins, two-factor devices, contact details, accounts created on
someone's behalf, personal data export and erasure.

Each service checks permission first (PermissionDenied), runs in one transaction, writes an
audit row and leaves sending to core.notifications, which sends after commit."""

import hmac
import logging
import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cybercantal.core.audit import audit_log
from cybercantal.core.models import AuditLog, Notification
from cybercantal.core.notifications import Recipient, notification_send
from cybercantal.core.notifications.sms import normalize_phone
from cybercantal.territory.models import Commune

from .models import ApiToken, Membership, OneTimeLogin, PersonalDataRequest
from .perms import (
    can_create_account_on_behalf,
    can_disable_two_factor,
    can_enable_two_factor,
    can_export_personal_data,
    can_process_erasure,
    is_authenticated,
    is_platform_admin,
    is_self,
)
from .personal_data import personal_data_providers
from .selectors import two_factor_has_device, user_find_by_identifier, users_matching_contact

User = get_user_model()
logger = logging.getLogger(__name__)

ONE_TIME_LOGIN_BACKEND = "cybercantal.accounts.backends.OneTimeLoginBackend"
BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
BACKUP_DEVICE_NAME = "Codes de secours"
ERASED_NAME = "Personne effacée"
ONE_TIME_LOGIN_KEY_PREFIX = "accounts.one_time_login:"
# Objects that belong to the person: audit rows about them are theirs in full.
OWN_OBJECT_TYPES = frozenset({"accounts.apitoken", "accounts.personaldatarequest"})


# --- Phone numbers ------------------------------------------------------------------------


def phone_normalize(value: str) -> str:
    """A mobile number in E.164 ("06 12 34 56 78" → "+33612345678"), "" for an empty value.
    Raises ValidationError (in French) for anything else, a landline included: the number is
    used to send SMS (core.notifications decides what can receive one)."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalize_phone(value, mobile=True)
    except ValueError as error:
        raise ValidationError(
            _("%(error)s Exemple de numéro de portable : 06 12 34 56 78.") % {"error": error},
            code="invalid_phone",
        ) from error


def _check_contact_unique(*, email: str, phone: str, exclude_pk=None) -> None:
    errors = {}
    if email and users_matching_contact(email=email, exclude_pk=exclude_pk).exists():
        errors["email"] = ValidationError(
            _("Cette adresse électronique est déjà utilisée par un autre compte."),
            code="email_taken",
        )
    if phone and users_matching_contact(phone=phone, exclude_pk=exclude_pk).exists():
        errors["phone"] = ValidationError(
            _("Ce numéro de téléphone est déjà utilisé par un autre compte."), code="phone_taken"
        )
    if errors:
        raise ValidationError(errors)


# --- Password login -------------------------------------------------------------------------


def password_login_check(*, request: HttpRequest | None, identifier: str, password: str):
    """The active account whose identifier (username, e-mail or mobile number) and password
    match, or None. Django's ModelBackend runs the password hasher even when no account
    matches, so the answer takes the same time either way."""
    user = user_find_by_identifier(identifier=identifier)
    username = user.get_username() if user is not None else (identifier or "").strip()
    authenticated = authenticate(request, username=username, password=password or "")
    if authenticated is None and user is not None:
        audit_log(
            actor=None,
            action="accounts.login_failed",
            target=user,
            data={"method": "password"},
            ip_address=_ip(request),
        )
    return authenticated


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    from cybercantal.core.http import client_ip

    return client_ip(request)


# --- One-time logins (link by e-mail, code by SMS) ---------------------------------------------


@dataclass(frozen=True)
class OneTimeLoginCheck:
    """The outcome of checking a link or a code. `reason` is one of "ok", "invalid",
    "expired", "used"; "expired" and "used" are only given once the secret has matched."""

    user: Any | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.user is not None


def _secret_hash(*, user_id: int, secret: str) -> str:
    # Keyed with SECRET_KEY: a 6-digit code's plain hash could be reversed from a database
    # dump in a second; a keyed one cannot without the key.
    return salted_hmac(
        "cybercantal.accounts.one_time_login", f"{user_id}:{secret}", algorithm="sha256"
    ).hexdigest()


def one_time_link_request(*, identifier: str, base_url: str, ip_address: str | None = None) -> None:
    """E-mail a single-use login link, valid settings.ONE_TIME_LINK_MINUTES, to the account the
    identifier designates. Does nothing when no active account with an e-mail matches: the
    caller answers the same way in both cases."""
    user = user_find_by_identifier(identifier=identifier)
    if user is None or not user.email:
        return
    minutes = settings.ONE_TIME_LINK_MINUTES
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            login = OneTimeLogin.objects.create(
                user=user,
                channel=OneTimeLogin.Channel.EMAIL_LINK,
                secret_hash=_secret_hash(user_id=user.pk, secret=secret),
                expires_at=timezone.now() + timedelta(minutes=minutes),
            )
            audit_log(
                actor=None, action="accounts.login_link_sent", target=user, ip_address=ip_address
            )
            url = base_url.rstrip("/") + reverse(
                "accounts:login_link", kwargs={"login_id": login.pk, "secret": secret}
            )
            platform = settings.CYBERCANTAL_BRANDING["platform_name"]
            notification_send(
                recipient=Recipient.from_user(user),
                subject=_("Votre lien de connexion à %(platform)s") % {"platform": platform},
                body=_(
                    "Bonjour,\n\n"
                    "Pour vous connecter à %(platform)s, ouvrez ce lien :\n%(url)s\n\n"
                    "Il est valable %(minutes)s minutes et ne sert qu'une fois.\n"
                    "Si vous n'avez rien demandé, ignorez ce message : votre compte reste protégé."
                )
                % {"platform": platform, "url": url, "minutes": minutes},
                key=f"{ONE_TIME_LOGIN_KEY_PREFIX}{login.pk}",
                channels=["email"],
                sensitive=True,
            )
    except ValueError:
        # An address the notification service cannot use: nothing is kept, and the
        # visitor gets the same answer as for an unknown account.
        logger.warning("One-time login not sent to user %s: unusable address", user.pk)


def one_time_link_verify(
    *, login_id: int, secret: str, ip_address: str | None = None
) -> OneTimeLoginCheck:
    """Consume a login link. Succeeds once, before it expires, for an active account."""
    now = timezone.now()
    with transaction.atomic():
        login = (
            OneTimeLogin.objects.select_for_update()
            .select_related("user")
            .filter(pk=login_id, channel=OneTimeLogin.Channel.EMAIL_LINK)
            .first()
        )
        if login is None or not hmac.compare_digest(
            login.secret_hash, _secret_hash(user_id=login.user_id, secret=secret or "")
        ):
            return OneTimeLoginCheck(user=None, reason="invalid")
        if login.used_at is not None:
            return OneTimeLoginCheck(user=None, reason="used")
        if login.expires_at <= now:
            return OneTimeLoginCheck(user=None, reason="expired")
        if not login.user.is_active:
            return OneTimeLoginCheck(user=None, reason="invalid")
        # Conditional update: of two simultaneous clicks, one only wins.
        if not OneTimeLogin.objects.filter(pk=login.pk, used_at__isnull=True).update(used_at=now):
            return OneTimeLoginCheck(user=None, reason="used")
        audit_log(
            actor=login.user,
            action="accounts.login",
            target=login.user,
            data={"method": "email_link"},
            ip_address=ip_address,
        )
        return OneTimeLoginCheck(user=login.user, reason="ok")


def one_time_code_request(*, identifier: str, ip_address: str | None = None) -> None:
    """Text a 6-digit login code, valid settings.ONE_TIME_CODE_MINUTES, to the account the
    identifier designates. Does nothing when no active account with a mobile number
    matches: the caller answers the same way in both cases. Earlier codes stay valid until
    they expire, since SMS can arrive late and out of order."""
    user = user_find_by_identifier(identifier=identifier)
    if user is None or not user.phone:
        return
    minutes = settings.ONE_TIME_CODE_MINUTES
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        with transaction.atomic():
            login = OneTimeLogin.objects.create(
                user=user,
                channel=OneTimeLogin.Channel.SMS_CODE,
                secret_hash=_secret_hash(user_id=user.pk, secret=code),
                expires_at=timezone.now() + timedelta(minutes=minutes),
            )
            audit_log(
                actor=None, action="accounts.login_code_sent", target=user, ip_address=ip_address
            )
            platform = settings.CYBERCANTAL_BRANDING["platform_name"]
            notification_send(
                recipient=Recipient.from_user(user),
                subject=_("Votre code de connexion"),
                body=_(
                    "%(platform)s : votre code de connexion est %(code)s. Il est valable "
                    "%(minutes)s minutes. Ne le donnez à personne."
                )
                % {"platform": platform, "code": code, "minutes": minutes},
                key=f"{ONE_TIME_LOGIN_KEY_PREFIX}{login.pk}",
                channels=["sms"],
                sensitive=True,
            )
    except ValueError:
        # An address the notification service cannot use: nothing is kept, and the
        # visitor gets the same answer as for an unknown account.
        logger.warning("One-time login not sent to user %s: unusable address", user.pk)


def one_time_code_verify(
    *, identifier: str, code: str, ip_address: str | None = None
) -> OneTimeLoginCheck:
    """Check an SMS code for the account the identifier designates. A code works once, before
    it expires, and only for its own account; each wrong try counts against every code the
    account has pending, and a code stops working after settings.ONE_TIME_CODE_MAX_ATTEMPTS
    wrong tries. Every failure answers "invalid", so that nothing tells whether the account
    exists or a code was sent."""
    invalid = OneTimeLoginCheck(user=None, reason="invalid")
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    user = user_find_by_identifier(identifier=identifier)
    if user is None or len(code) != 6 or not code.isdigit():
        return invalid
    now = timezone.now()
    max_attempts = settings.ONE_TIME_CODE_MAX_ATTEMPTS
    with transaction.atomic():
        pending = list(
            OneTimeLogin.objects.select_for_update().filter(
                user=user,
                channel=OneTimeLogin.Channel.SMS_CODE,
                used_at__isnull=True,
                expires_at__gt=now,
                failed_attempts__lt=max_attempts,
            )
        )
        expected = _secret_hash(user_id=user.pk, secret=code)
        match = next(
            (login for login in pending if hmac.compare_digest(login.secret_hash, expected)), None
        )
        if match is not None:
            if not OneTimeLogin.objects.filter(pk=match.pk, used_at__isnull=True).update(
                used_at=now
            ):
                return invalid
            audit_log(
                actor=user,
                action="accounts.login",
                target=user,
                data={"method": "sms_code"},
                ip_address=ip_address,
            )
            return OneTimeLoginCheck(user=user, reason="ok")
        if pending:
            OneTimeLogin.objects.filter(pk__in=[login.pk for login in pending]).update(
                failed_attempts=F("failed_attempts") + 1
            )
            locked = [login.pk for login in pending if login.failed_attempts + 1 >= max_attempts]
            audit_log(
                actor=None,
                action="accounts.login_code_failed",
                target=user,
                data={"locked_codes": len(locked)},
                ip_address=ip_address,
            )
        return invalid


def login_record(*, user, method: str, ip_address: str | None = None) -> None:
    """Audit a password login (one-time logins are audited when the secret is consumed)."""
    audit_log(
        actor=user,
        action="accounts.login",
        target=user,
        data={"method": method},
        ip_address=ip_address,
    )


def one_time_logins_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete expired one-time logins once they are of no use for investigating an incident
    (the audit log keeps the trace). Returns how many were deleted."""
    deleted, _detail = OneTimeLogin.objects.filter(
        expires_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


# --- Two-factor authentication (TOTP + backup codes) ---------------------------------------


def two_factor_setup_start(*, actor) -> TOTPDevice:
    """The unconfirmed authenticator device the actor is about to scan (reused across page
    reloads, so that the QR code does not change under the person's eyes)."""
    if not can_enable_two_factor(actor):
        raise PermissionDenied
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=actor, name=TOTP_DEVICE_NAME, confirmed=False)
        return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret for manual entry in an authenticator app, in groups of four characters."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def two_factor_setup_confirm(*, actor, token: str, ip_address: str | None = None) -> list[str]:
    """Confirm the pending authenticator with a first code. It replaces any previous
    authenticator; new backup codes replace any previous ones and are returned, to be shown
    once (django-otp stores them as they are: they are random and single-use).
    Raises ValidationError if the code is wrong."""
    if not can_enable_two_factor(actor):
        raise PermissionDenied
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=actor, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise ValidationError(
                _("Aucune configuration en cours : rechargez la page."), code="no_device"
            )
        verified = device.verify_token(_clean_token(token))
        if verified:
            TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _backup_codes_replace(actor)
            audit_log(
                actor=actor,
                action="accounts.two_factor_enabled",
                target=actor,
                ip_address=ip_address,
            )
        else:
            audit_log(
                actor=actor,
                action="accounts.two_factor_failed",
                target=actor,
                data={"step": "setup"},
                ip_address=ip_address,
            )
    # Raised after the commit: the failure's audit row and django-otp's throttling stay.
    if not verified:
        raise ValidationError(
            _("Ce code n'est pas le bon. Vérifiez l'heure de votre téléphone et réessayez."),
            code="invalid_token",
        )
    return codes


def _backup_codes_replace(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_backup_codes_regenerate(*, actor, ip_address: str | None = None) -> list[str]:
    """New backup codes (the old ones stop working). For a person who has two-factor on and
    has verified it in this session (the view checks the session)."""
    if not can_enable_two_factor(actor) or not two_factor_has_device(actor):
        raise PermissionDenied
    with transaction.atomic():
        codes = _backup_codes_replace(actor)
        audit_log(
            actor=actor,
            action="accounts.two_factor_backup_codes_regenerated",
            target=actor,
            ip_address=ip_address,
        )
    return codes


def _clean_token(token: str) -> str:
    return "".join((token or "").split()).lower()


def two_factor_verify(*, user, token: str, ip_address: str | None = None):
    """The confirmed device (authenticator or backup code) that accepts `token`, or None.
    A backup code is consumed. Failures are audited; django-otp throttles each device after
    failures (growing delay)."""
    token = _clean_token(token)
    with transaction.atomic():
        verified = None
        if token:
            for device in devices_for_user(user, confirmed=True, for_verify=True):
                if device.verify_token(token):
                    verified = device
                    break
        audit_log(
            actor=user,
            action="accounts.two_factor_verified" if verified else "accounts.two_factor_failed",
            target=user,
            data={"device": type(verified).__name__ if verified else "", "step": "login"},
            ip_address=ip_address,
        )
    return verified


def two_factor_disable(*, actor, ip_address: str | None = None) -> None:
    """Remove every two-factor device of the actor. Refused to platform administrators, who
    must keep it."""
    if not can_disable_two_factor(actor):
        raise PermissionDenied
    with transaction.atomic():
        TOTPDevice.objects.filter(user=actor).delete()
        StaticDevice.objects.filter(user=actor).delete()
        audit_log(
            actor=actor, action="accounts.two_factor_disabled", target=actor, ip_address=ip_address
        )


# --- Password -------------------------------------------------------------------------------


def user_password_set(*, actor, user, password: str, ip_address: str | None = None) -> None:
    """Set a person's own password (the form has checked the old one when there was one)."""
    if not is_self(actor, user):
        raise PermissionDenied
    validate_password(password, user=user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_log(
            actor=actor, action="accounts.password_changed", target=user, ip_address=ip_address
        )


# --- Contact details and accounts --------------------------------------------------------------


def user_update_contact(
    *,
    actor,
    user,
    email: str,
    phone: str,
    home_commune: Commune | None,
    prefers_sms: bool,
    prefers_letter: bool,
    postal_address: str = "",
):
    """Update a person's contact details and preferences (by themselves or a platform
    administrator). The phone is stored in E.164; e-mail and phone stay unique."""
    if not (is_self(actor, user) or is_platform_admin(actor)):
        raise PermissionDenied
    email = (email or "").strip()
    phone = phone_normalize(phone)
    postal_address = (postal_address or "").strip()
    errors = {}
    if prefers_sms and not phone:
        errors["prefers_sms"] = ValidationError(
            _("Indiquez un numéro de portable pour recevoir des SMS."), code="sms_without_phone"
        )
    if prefers_letter and not postal_address:
        errors["postal_address"] = ValidationError(
            _("Indiquez votre adresse postale pour recevoir des courriers."),
            code="letter_without_address",
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _check_contact_unique(email=email, phone=phone, exclude_pk=user.pk)
        new_values = {
            "email": email,
            "phone": phone,
            "home_commune": home_commune,
            "prefers_sms": prefers_sms,
            "prefers_letter": prefers_letter,
            "postal_address": postal_address,
        }
        changed = [name for name, value in new_values.items() if getattr(user, name) != value]
        for name, value in new_values.items():
            setattr(user, name, value)
        user.save(update_fields=[*new_values])
        # Field names only: the values are personal data and the log is kept for good.
        audit_log(
            actor=actor, action="accounts.contact_updated", target=user, data={"fields": changed}
        )
    return user


def _username_base(first_name: str, last_name: str) -> str:
    parts = [slugify(first_name), slugify(last_name)]
    base = ".".join(part for part in parts if part) or "personne"
    return base[:140]


def _create_with_unique_username(*, first_name: str, last_name: str, **fields):
    """Create a user named "prenom.nom", "prenom.nom2"… The database's case-insensitive
    unique constraint decides between simultaneous creations."""
    base = _username_base(first_name, last_name)
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    suffix = 1
    for _attempt in range(20):
        username = base if suffix == 1 else f"{base}{suffix}"
        suffix += 1
        if username.lower() in taken:
            continue
        try:
            with transaction.atomic():
                return User.objects.create(
                    username=username, first_name=first_name, last_name=last_name, **fields
                )
        except IntegrityError:
            if User.objects.filter(username__iexact=username).exists():
                continue
            raise
    return User.objects.create(
        username=f"{base}.{secrets.token_hex(3)}",
        first_name=first_name,
        last_name=last_name,
        **fields,
    )


def _clean_names(first_name: str, last_name: str) -> tuple[str, str]:
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    errors = {}
    if not first_name:
        errors["first_name"] = ValidationError(_("Indiquez le prénom."), code="required")
    if not last_name:
        errors["last_name"] = ValidationError(_("Indiquez le nom."), code="required")
    if errors:
        raise ValidationError(errors)
    return first_name[:150], last_name[:150]


def user_create_on_behalf(
    *,
    actor,
    first_name: str,
    last_name: str,
    phone: str = "",
    email: str = "",
    home_commune: Commune | None = None,
):
    """Create an account for a person who is at the desk or on the phone (mediators, agents of
    the Département, tiers-lieu managers, platform administrators). The account has no
    password: the person logs in later with a code by SMS or a link by e-mail, and may then
    choose a password. The person holds the resident role (no membership)."""
    if not can_create_account_on_behalf(actor):
        raise PermissionDenied
    first_name, last_name = _clean_names(first_name, last_name)
    email = (email or "").strip()
    try:
        phone = phone_normalize(phone)
    except ValidationError as error:
        raise ValidationError({"phone": error}) from error
    with transaction.atomic():
        _check_contact_unique(email=email, phone=phone)
        user = _create_with_unique_username(
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            home_commune=home_commune,
            created_by=actor,
            prefers_sms=bool(phone) and not email,
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_log(actor=actor, action="accounts.user_created_on_behalf", target=user)
        if email or phone:
            _send_welcome(user=user, actor=actor)
    return user


def _notify_quietly(**kwargs) -> None:
    """Send a courtesy message; an unusable address must not cancel the action it follows
    (notification_send raises before writing anything, so the transaction stays usable)."""
    try:
        notification_send(**kwargs)
    except ValueError as error:
        logger.warning("Notification %s not sent: %s", kwargs.get("key"), error)


def _send_welcome(*, user, actor) -> None:
    """Tell the person their account exists and how to log in without a password: by e-mail
    when they have an address, else by a short SMS (kept within one or two SMS)."""
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    params = {
        "name": user.get_full_name(),
        "actor": actor.get_full_name() or actor.get_username(),
        "platform": platform,
        "username": user.get_username(),
    }
    if user.email:
        channel = "email"
        body = (
            _(
                "Bonjour %(name)s,\n\n"
                "%(actor)s vous a créé un compte sur %(platform)s. Votre identifiant : "
                "%(username)s.\n\nPour vous connecter, choisissez « Recevoir un lien par "
                "courriel » sur la page de connexion : vous n'avez pas besoin de mot de passe."
            )
            % params
        )
    else:
        channel = "sms"
        body = (
            _(
                "%(platform)s : un compte a été créé pour vous (identifiant %(username)s). Pour "
                'vous connecter, choisissez "Recevoir un code par SMS".'
            )
            % params
        )
    _notify_quietly(
        recipient=Recipient.from_user(user),
        subject=_("Votre compte %(platform)s") % {"platform": platform},
        body=body,
        key=f"accounts.welcome:{user.pk}",
        channels=[channel],
        actor=actor,
    )


def user_register(
    *,
    first_name: str,
    last_name: str,
    password: str,
    email: str = "",
    phone: str = "",
    home_commune: Commune | None = None,
    ip_address: str | None = None,
):
    """Self sign-up. An e-mail address or a mobile number is required (to log in and to be
    reached). The new person holds the resident role (no membership)."""
    first_name, last_name = _clean_names(first_name, last_name)
    email = (email or "").strip()
    try:
        phone = phone_normalize(phone)
    except ValidationError as error:
        raise ValidationError({"phone": error}) from error
    if not email and not phone:
        raise ValidationError(
            {
                "email": ValidationError(
                    _("Indiquez une adresse électronique ou un numéro de portable."),
                    code="contact_required",
                )
            }
        )
    try:
        validate_password(
            password, user=User(first_name=first_name, last_name=last_name, email=email)
        )
    except ValidationError as error:
        raise ValidationError({"password": error}) from error
    with transaction.atomic():
        _check_contact_unique(email=email, phone=phone)
        user = _create_with_unique_username(
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            home_commune=home_commune,
            prefers_sms=bool(phone) and not email,
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_log(actor=user, action="accounts.user_registered", target=user, ip_address=ip_address)
    return user


# --- Personal data: export and erasure --------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_export(*, actor, user) -> dict:
    """Everything the platform holds about `user`, ready for JSON: profile, memberships,
    one-time logins and API tokens (metadata only, never secrets), two-factor devices
    (metadata), erasure requests, audit rows where the person is the author or the subject,
    notifications addressed to them, and what other modules registered
    (accounts.personal_data). The export itself is audited."""
    if not can_export_personal_data(actor, user):
        raise PermissionDenied
    with transaction.atomic():
        data = {
            "generated_at": _iso(timezone.now()),
            "profile": {
                "id": user.pk,
                "username": user.get_username(),
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "phone": user.phone,
                "postal_address": user.postal_address,
                "home_commune": (
                    {"insee_code": user.home_commune.insee_code, "name": user.home_commune.name}
                    if user.home_commune_id
                    else None
                ),
                "prefers_sms": user.prefers_sms,
                "prefers_letter": user.prefers_letter,
                "date_joined": _iso(user.date_joined),
                "last_login": _iso(user.last_login),
                "is_active": user.is_active,
                "has_password": user.has_usable_password(),
                "created_by": str(user.created_by) if user.created_by_id else None,
            },
            "memberships": [
                {
                    "organisation": m.organisation.name,
                    "role": m.role,
                    "role_label": str(m.get_role_display()),
                    "is_active": m.is_active,
                    "since": _iso(m.created_at),
                }
                for m in Membership.objects.filter(user=user).select_related("organisation")
            ],
            "one_time_logins": [
                {
                    "channel": login.channel,
                    "created_at": _iso(login.created_at),
                    "expires_at": _iso(login.expires_at),
                    "used_at": _iso(login.used_at),
                    "failed_attempts": login.failed_attempts,
                }
                for login in OneTimeLogin.objects.filter(user=user).order_by("created_at")
            ],
            "api_tokens": [
                {
                    "name": token.name,
                    "prefix": token.prefix,
                    "created_at": _iso(token.created_at),
                    "last_used_at": _iso(token.last_used_at),
                    "revoked_at": _iso(token.revoked_at),
                }
                for token in ApiToken.objects.filter(user=user)
            ],
            "two_factor_devices": [
                {
                    "type": type(device).__name__,
                    "name": device.name,
                    "confirmed": device.confirmed,
                    "created_at": _iso(getattr(device, "created_at", None)),
                    "last_used_at": _iso(getattr(device, "last_used_at", None)),
                }
                for device in devices_for_user(user, confirmed=None)
            ],
            "data_requests": [
                {
                    "status": request.status,
                    "reason": request.reason,
                    "requested_at": _iso(request.requested_at),
                    "processed_at": _iso(request.processed_at),
                    "response": request.response,
                }
                for request in PersonalDataRequest.objects.filter(user=user)
            ],
            "audit_log": _audit_export(user),
            "notifications": _notifications_export(user),
        }
        for provider in personal_data_providers():
            if provider.export is not None:
                data[provider.key] = provider.export(user)
        audit_log(actor=actor, action="accounts.personal_data_exported", target=user)
    return data


def _audit_export(user) -> list[dict]:
    """Audit rows where the person is the author or the subject. When a staff member acted on
    someone else, that other person's name and the details are left out: they are not the
    staff member's personal data."""
    about_user = Q(target_type=user._meta.label_lower, target_id=str(user.pk))
    rows = []
    for row in AuditLog.objects.filter(Q(actor_id=user.pk) | about_user).order_by(
        "created_at", "pk"
    ):
        is_about_user = row.target_type == user._meta.label_lower and row.target_id == str(user.pk)
        is_own_object = row.actor_id == user.pk and row.target_type in OWN_OBJECT_TYPES
        visible = is_about_user or is_own_object
        rows.append(
            {
                "date": _iso(row.created_at),
                "actor": row.actor_repr,
                "action": row.action,
                "target_type": row.target_type,
                "target": row.target_repr if visible else "",
                "details": row.data if visible else {},
                "ip_address": row.ip_address if row.actor_id == user.pk or visible else None,
            }
        )
    return rows


def _notifications_export(user) -> list[dict]:
    """Notifications addressed to the person. The text of a login link or code is left out:
    a link may still be valid, and an administrator exporting for someone must not be able to
    log in as them."""
    exported = []
    for notification in Notification.objects.filter(user=user).order_by("created_at", "pk"):
        is_secret = notification.key.startswith(ONE_TIME_LOGIN_KEY_PREFIX)
        exported.append(
            {
                "channel": notification.channel,
                "status": notification.status,
                "subject": notification.subject,
                "body": "" if is_secret else notification.body,
                "recipient_name": notification.recipient_name,
                "recipient_email": notification.recipient_email,
                "recipient_phone": notification.recipient_phone,
                "recipient_address": notification.recipient_address,
                "created_at": _iso(notification.created_at),
                "sent_at": _iso(notification.sent_at),
            }
        )
    return exported


def erasure_request_create(*, actor, reason: str = "") -> PersonalDataRequest:
    """Ask for one's account and data to be erased. A person has at most one pending request:
    asking again returns it."""
    if not is_authenticated(actor):
        raise PermissionDenied
    with transaction.atomic():
        existing = PersonalDataRequest.objects.filter(
            user=actor, status=PersonalDataRequest.Status.PENDING
        ).first()
        if existing is not None:
            return existing
        request = PersonalDataRequest.objects.create(
            user=actor, user_repr=str(actor)[:200], reason=(reason or "").strip()
        )
        audit_log(actor=actor, action="accounts.erasure_requested", target=request)
    return request


def erasure_request_process(
    *, actor, request: PersonalDataRequest, approve: bool, response: str
) -> PersonalDataRequest:
    """Approve or refuse a pending erasure request (platform administrators only). Approval
    anonymises the account in the same transaction (see user_anonymise). The audit log is
    kept: it is append-only and records who did what. A refusal is notified to the person
    with the response."""
    if not can_process_erasure(actor):
        raise PermissionDenied
    response = (response or "").strip()
    if not approve and not response:
        raise ValidationError(
            {"response": _("Expliquez le refus à la personne.")}, code="response_required"
        )
    with transaction.atomic():
        locked = PersonalDataRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != PersonalDataRequest.Status.PENDING:
            raise ValidationError(_("Cette demande a déjà été traitée."), code="already_processed")
        locked.processed_at = timezone.now()
        locked.processed_by = actor
        locked.response = response
        person = locked.user
        if approve:
            locked.status = PersonalDataRequest.Status.DONE
            if person is not None:
                user_anonymise(actor=actor, user=person)
                # The request stays as the proof that it was honoured, without the name.
                locked.user_repr = f"{ERASED_NAME} #{person.pk}"
        else:
            locked.status = PersonalDataRequest.Status.REFUSED
        locked.save()
        audit_log(
            actor=actor,
            action="accounts.erasure_approved" if approve else "accounts.erasure_refused",
            target=locked,
            data={"user_id": person.pk if person else None},
        )
        if not approve and person is not None:
            platform = settings.CYBERCANTAL_BRANDING["platform_name"]
            _notify_quietly(
                recipient=Recipient.from_user(person),
                subject=_("Votre demande d'effacement"),
                body=_(
                    "Bonjour,\n\nVotre demande d'effacement de votre compte %(platform)s n'a "
                    "pas été acceptée, pour la raison suivante :\n\n%(response)s"
                )
                % {"platform": platform, "response": response},
                key=f"accounts.erasure_refused:{locked.pk}",
                actor=actor,
            )
    return locked


def user_anonymise(*, actor, user) -> None:
    """Erase a person's identity, keeping the row so that the records that point to it
    (bookings, audit log) stay consistent: name → "Personne effacée", contact details
    cleared, username → "efface-<id>", no password, inactive, memberships deactivated, API
    tokens revoked, one-time logins and two-factor devices deleted; other modules erase their
    part through accounts.personal_data. Changing the password ends every open session."""
    if not can_process_erasure(actor):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        for provider in personal_data_providers():
            if provider.erase is not None:
                provider.erase(user)
        user.first_name = ""
        user.last_name = ERASED_NAME
        user.username = f"efface-{user.pk}"
        user.email = ""
        user.phone = ""
        user.postal_address = ""
        user.home_commune = None
        user.prefers_sms = False
        user.prefers_letter = False
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.last_login = None
        user.erased_at = now
        user.set_unusable_password()
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
        Membership.objects.filter(user=user, is_active=True).update(is_active=False)
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        OneTimeLogin.objects.filter(user=user).delete()
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _notifications_anonymise(user)
        audit_log(actor=actor, action="accounts.user_anonymised", target=user)


def _notifications_anonymise(user) -> None:
    """Clear the addresses and texts of the messages sent to the person (core keeps them per
    user and cannot import accounts to take part in erasure itself). Unsent ones are stopped;
    printable letters are deleted once the erasure is committed."""
    notifications = Notification.objects.filter(user=user)
    letters = [
        name
        for name in notifications.exclude(letter_pdf="").values_list("letter_pdf", flat=True)
        if name
    ]
    notifications.exclude(status=Notification.Status.SENT).update(
        status=Notification.Status.FAILED, last_error="Personne effacée : envoi annulé."
    )
    notifications.update(
        recipient_name=ERASED_NAME,
        recipient_email="",
        recipient_phone="",
        recipient_address="",
        subject="",
        body="",
        letter_pdf="",
    )
    if letters:
        storage = Notification._meta.get_field("letter_pdf").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in letters])
