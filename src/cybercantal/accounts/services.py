"""Every write on accounts: logins, two-factor devices, contact details, accounts created on
someone's behalf, personal data export and erasure.

Each service checks permission first (PermissionDenied), runs in one transaction, writes an
audit row and leaves sending to core.notifications, which sends after commit."""

import hmac
import logging
import secrets
import time
from base64 import b32encode
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
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
from cybercantal.territory.selectors import commune_list

from .models import ApiToken, Membership, OneTimeLogin, PersonalDataRequest, Role
from .perms import (
    can_create_account_on_behalf,
    can_disable_two_factor,
    can_enable_two_factor,
    can_export_personal_data,
    can_process_erasure,
    can_update_contact,
    contact_change_needs_proof,
    is_authenticated,
    is_self,
)
from .personal_data import personal_data_providers
from .selectors import (
    erasure_request_pending_for,
    phone_to_e164,
    two_factor_has_device,
    user_find_by_identifier,
    users_matching_contact,
)

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


def password_login_check(*, identifier: str, password: str, ip_address: str | None = None):
    """The active account whose identifier (username, e-mail or mobile number) and password
    match, or None. Django's ModelBackend runs the password hasher even when no account
    matches, so the answer takes the same time either way. A wrong password for an existing
    account is audited with the client's address."""
    user = user_find_by_identifier(identifier=identifier)
    username = user.get_username() if user is not None else (identifier or "").strip()
    authenticated = authenticate(None, username=username, password=password or "")
    if authenticated is None and user is not None:
        audit_log(
            actor=None,
            action="accounts.login_failed",
            target=user,
            data={"method": "password"},
            ip_address=ip_address,
        )
    return authenticated


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


def one_time_link_verify(*, login_id: int, secret: str) -> OneTimeLoginCheck:
    """Consume a login link. Succeeds once, before it expires, for an active account. The
    login itself is audited when it completes (login_record), after the second factor when
    the person has one."""
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
    exists or a code was sent. The login itself is audited when it completes
    (login_record)."""
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


def login_record(
    *, user, method: str, second_factor: str = "", ip_address: str | None = None
) -> None:
    """Audit a completed login ("accounts.login"): the session is open, after the second
    factor when the person has one. `method` is the first factor ("password", "email_link",
    "sms_code", "signup"), `second_factor` the kind of device that verified the second."""
    audit_log(
        actor=user,
        action="accounts.login",
        target=user,
        data={"method": method, "second_factor": second_factor},
        ip_address=ip_address,
    )


def login_first_factor_record(*, user, method: str, ip_address: str | None = None) -> None:
    """Audit a first factor that succeeded while the second is still to be checked
    ("accounts.login_first_factor"): nothing is open yet, but someone knew the password or
    received the code."""
    audit_log(
        actor=user,
        action="accounts.login_first_factor",
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


def two_factor_setup_confirm(
    *,
    actor,
    token: str,
    keep_session_key: str | None = None,
    ip_address: str | None = None,
) -> list[str]:
    """Confirm the pending authenticator with a first code. It replaces any previous
    authenticator; new backup codes replace any previous ones and are returned, to be shown
    once (django-otp stores them as they are: they are random and single-use).

    Every other session of the person ends (all but `keep_session_key`, the one confirming,
    which the caller should give a new key): a session opened before two-factor
    authentication, perhaps by someone who had the password, must not keep its power.
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
            ended = _sessions_end_others(user=actor, keep_session_key=keep_session_key)
            audit_log(
                actor=actor,
                action="accounts.two_factor_enabled",
                target=actor,
                data={"sessions_ended": ended},
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


def _sessions_end_others(*, user, keep_session_key: str | None) -> int:
    """Delete the person's open sessions but one; returns how many ended. Sessions are found
    by decoding each unexpired one: fine for an action as rare as enabling two-factor
    authentication. Only session engines that keep sessions in the database can be listed
    (db, cached_db: the default); with others, a warning is logged."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        logger.warning("Sessions of user %s not ended: %s cannot list them", user.pk, store_class)
        return 0
    user_id = str(user.pk)
    sessions = (
        store_class.get_model_class()
        .objects.filter(expire_date__gt=timezone.now())
        .exclude(session_key=keep_session_key or "")
    )
    ended = 0
    for session in sessions.iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == user_id:
            # Through the store, so that cached_db forgets its cached copy too.
            store_class(session_key=session.session_key).delete()
            ended += 1
    return ended


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


@dataclass(frozen=True)
class ContactUpdate:
    """What user_update_contact did: the account, and the new e-mail address or phone number
    ("email" / "phone" → value) it did not store because the person must first prove the new
    value is theirs (contact_change_start sends it a code)."""

    user: Any
    to_confirm: dict[str, str] = field(default_factory=dict)


def _user_contact_save(user, values: dict[str, Any]) -> None:
    """Save these fields of `user`. Between the uniqueness check and this write another
    account may take the same e-mail or phone: the database's unique constraints refuse it,
    and the person gets the check's message instead of an error page."""
    previous = {name: getattr(user, name) for name in values}
    for name, value in values.items():
        setattr(user, name, value)
    try:
        with transaction.atomic():
            user.save(update_fields=[*values])
    except IntegrityError:
        for name, value in previous.items():
            setattr(user, name, value)
        _check_contact_unique(
            email=values.get("email", ""), phone=values.get("phone", ""), exclude_pk=user.pk
        )
        raise


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
    ip_address: str | None = None,
) -> ContactUpdate:
    """Update a person's contact details and preferences (by themselves or a platform
    administrator). The phone is stored in E.164; e-mail and phone stay unique.

    A person who changes their own e-mail or phone to a new value must prove it is theirs:
    the new value is not stored but returned in `to_confirm`, for contact_change_start to send
    a code to it (otherwise anyone could claim someone else's address, and with it the
    logins by link or code that person would later ask for). Removing one is immediate. A
    platform administrator changing someone else's details vouches for them: stored at once."""
    if not can_update_contact(actor, user):
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
    to_confirm = {}
    if contact_change_needs_proof(actor, user):
        if email and email.lower() != user.email.lower():
            to_confirm["email"] = email
        if phone and phone != user.phone:
            to_confirm["phone"] = phone
    new_values = {
        "email": email,
        "phone": phone,
        "home_commune": home_commune,
        "prefers_sms": prefers_sms,
        "prefers_letter": prefers_letter,
        "postal_address": postal_address,
    }
    for name in to_confirm:
        new_values[name] = getattr(user, name)  # unchanged until proven
    with transaction.atomic():
        _check_contact_unique(email=email, phone=phone, exclude_pk=user.pk)
        changed = [name for name, value in new_values.items() if getattr(user, name) != value]
        _user_contact_save(user, new_values)
        # Field names only: the values are personal data and the log is kept for good.
        audit_log(
            actor=actor,
            action="accounts.contact_updated",
            target=user,
            data={"fields": changed, "to_confirm": sorted(to_confirm)},
            ip_address=ip_address,
        )
    return ContactUpdate(user=user, to_confirm=to_confirm)


# --- Proof that an e-mail address or a mobile number is the person's -------------------------
#
# Self sign-up and a change of one's own e-mail or phone send a 6-digit code to the new value.
# What waits for the code is kept server-side in the session (never in a cookie): the value,
# a keyed hash of the code (like one-time logins: a dump of the sessions does not give the
# codes), its expiry and the wrong tries so far. The views also count each request and each
# try against the value and the address (accounts.ratelimit), which holds across sessions and
# simultaneous requests.

CONTACT_CODE_KEY_PREFIX = "accounts.contact_code:"
CONTACT_CHANNELS = ("email", "phone")


@dataclass(frozen=True)
class ContactCodeCheck:
    """The outcome of typing a code: `reason` is "ok", "invalid", "expired" or "locked" (too
    many wrong tries: a new code must be asked for); `user` is the account concerned when
    "ok"."""

    reason: str
    user: Any | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def _contact_code_hash(*, nonce: str, code: str) -> str:
    return salted_hmac(
        "cybercantal.accounts.contact_code", f"{nonce}:{code}", algorithm="sha256"
    ).hexdigest()


def _contact_code_new(*, channel: str, value: str) -> tuple[dict, str]:
    """A pending proof (JSON-serialisable, for the session) and the code to send."""
    nonce = secrets.token_urlsafe(16)
    code = f"{secrets.randbelow(10**6):06d}"
    pending = {
        "channel": channel,
        "value": value,
        "nonce": nonce,
        "code_hash": _contact_code_hash(nonce=nonce, code=code),
        "expires_at": time.time() + settings.ONE_TIME_CODE_MINUTES * 60,
        "attempts": 0,
    }
    return pending, code


def _contact_code_send(
    *, pending: dict, code: str, name: str, user_id: int | None = None, actor=None
) -> None:
    channel, value = pending["channel"], pending["value"]
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    params = {"platform": platform, "code": code, "minutes": settings.ONE_TIME_CODE_MINUTES}
    if channel == "phone":
        body = (
            _(
                "%(platform)s : votre code de vérification est %(code)s. Il est valable "
                "%(minutes)s minutes. Ne le donnez à personne."
            )
            % params
        )
    else:
        body = (
            _(
                "Bonjour,\n\nPour confirmer que cette adresse est bien la vôtre sur %(platform)s, "
                "recopiez ce code : %(code)s\n\nIl est valable %(minutes)s minutes. Ne le "
                "donnez à personne. Si vous n'avez rien demandé, ignorez ce message."
            )
            % params
        )
    notification_send(
        recipient=Recipient(
            name=name,
            email=value if channel == "email" else "",
            phone=value if channel == "phone" else "",
            user_id=user_id,
        ),
        subject=_("Votre code de vérification %(platform)s") % {"platform": platform},
        body=body,
        key=f"{CONTACT_CODE_KEY_PREFIX}{pending['nonce']}",
        channels=["sms" if channel == "phone" else "email"],
        actor=actor,
        sensitive=True,
    )


def _contact_code_check(pending: dict, code: str) -> str:
    """ "ok", "invalid", "expired" or "locked". A wrong code counts in pending["attempts"]."""
    max_attempts = settings.ONE_TIME_CODE_MAX_ATTEMPTS
    if pending.get("attempts", 0) >= max_attempts:
        return "locked"
    if pending.get("expires_at", 0) <= time.time():
        return "expired"
    code = "".join((code or "").split())
    expected = _contact_code_hash(nonce=pending.get("nonce", ""), code=code)
    if len(code) == 6 and code.isdigit() and hmac.compare_digest(pending["code_hash"], expected):
        return "ok"
    pending["attempts"] = pending.get("attempts", 0) + 1
    return "locked" if pending["attempts"] >= max_attempts else "invalid"


def contact_change_start(*, actor, channel: str, value: str, ip_address: str | None = None) -> dict:
    """Send a 6-digit code to the new e-mail address or mobile number (`channel` "email" or
    "phone") the actor gave on their contact page, and return the pending change, to keep in
    their session until contact_change_confirm. Nothing changes on the account before."""
    if not is_authenticated(actor):
        raise PermissionDenied
    if channel not in CONTACT_CHANNELS:
        raise ValueError(f"Unknown contact channel: {channel!r}")
    pending, code = _contact_code_new(channel=channel, value=value)
    pending["user_id"] = actor.pk
    with transaction.atomic():
        try:
            _contact_code_send(
                pending=pending,
                code=code,
                name=actor.get_full_name() or actor.get_username(),
                user_id=actor.pk,
                actor=actor,
            )
        except ValueError as error:
            raise ValidationError({channel: ValidationError(str(error))}) from error
        audit_log(
            actor=actor,
            action="accounts.contact_code_sent",
            target=actor,
            data={"channel": channel},
            ip_address=ip_address,
        )
    return pending


def contact_change_confirm(
    *, actor, pending: dict, code: str, ip_address: str | None = None
) -> ContactCodeCheck:
    """Store the new e-mail or phone once the code sent to it is typed back, before it expires
    and within settings.ONE_TIME_CODE_MAX_ATTEMPTS tries (a wrong one counts in
    pending["attempts"]: the caller keeps the dict). Raises PermissionDenied when the pending
    change is not the actor's, ValidationError when another account took the value
    meanwhile."""
    if not is_authenticated(actor) or pending.get("user_id") != actor.pk:
        raise PermissionDenied
    if pending.get("channel") not in CONTACT_CHANNELS:
        raise PermissionDenied
    reason = _contact_code_check(pending, code)
    if reason != "ok":
        return ContactCodeCheck(reason=reason)
    name, value = pending["channel"], pending["value"]
    with transaction.atomic():
        _check_contact_unique(
            email=value if name == "email" else "",
            phone=value if name == "phone" else "",
            exclude_pk=actor.pk,
        )
        _user_contact_save(actor, {name: value})
        audit_log(
            actor=actor,
            action="accounts.contact_verified",
            target=actor,
            data={"fields": [name]},
            ip_address=ip_address,
        )
    return ContactCodeCheck(reason="ok", user=actor)


# --- Usernames and account creation ------------------------------------------------------------


def username_check(value: str) -> None:
    """Raise ValidationError (in French) if `value` cannot be a username: it must not contain
    "@" nor read as a phone number, so that it never passes for someone's e-mail or phone
    (the login matches those first, but people and staff read usernames too)."""
    value = (value or "").strip()
    if "@" in value:
        raise ValidationError(
            _("L'identifiant ne peut pas contenir « @ » : on le prendrait pour une adresse."),
            code="username_email",
        )
    if phone_to_e164(value):
        raise ValidationError(
            _("L'identifiant ne peut pas être un numéro de téléphone."), code="username_phone"
        )


def _username_base(first_name: str, last_name: str) -> str:
    parts = [slugify(first_name), slugify(last_name)]
    base = ".".join(part for part in parts if part)[:140]
    # slugify drops "@"; a letter keeps the name from reading as a phone number ("-" and
    # "0639980001" would otherwise give "0639980001"): no phone number has one.
    if not any(ch.isalpha() for ch in base):
        base = f"personne.{base}" if base else "personne"
    return base[:140]


def _create_with_unique_username(*, first_name: str, last_name: str, **fields):
    """Create a user named "prenom.nom", "prenom.nom2"… The database's unique constraints
    decide between simultaneous creations: a username taken meanwhile moves on to the next
    one; an e-mail or phone taken meanwhile raises the ValidationError of the check."""
    base = _username_base(first_name, last_name)
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    candidates = [
        name
        for name in (base if n == 1 else f"{base}{n}" for n in range(1, 21))
        if name.lower() not in taken
    ]
    candidates.append(f"{base}.{secrets.token_hex(3)}")
    for username in candidates:
        try:
            with transaction.atomic():
                return User.objects.create(
                    username=username, first_name=first_name, last_name=last_name, **fields
                )
        except IntegrityError:
            if User.objects.filter(username__iexact=username).exists():
                continue
            _check_contact_unique(email=fields.get("email", ""), phone=fields.get("phone", ""))
            raise
    raise ValidationError(
        _("Aucun identifiant libre n'a été trouvé pour ce nom : réessayez."),
        code="username_unavailable",
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
    the Département, tiers-lieu managers, platform administrators). The agent vouches for the
    e-mail and phone the person gives: they are stored without a code. The account has no
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
            password=make_password(None),  # unusable
        )
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


def user_signup_start(
    *,
    first_name: str,
    last_name: str,
    password: str,
    email: str = "",
    phone: str = "",
    home_commune: Commune | None = None,
    ip_address: str | None = None,
) -> dict:
    """Step 1 of self sign-up: check what the person typed, then send a 6-digit code to the
    one contact they gave (by SMS to a mobile number, by e-mail to an address). Returns the
    pending sign-up, to keep server-side (in the session) until user_signup_complete: no
    account exists before the code comes back. It holds the password already hashed
    (make_password) and the code as a keyed hash.

    When the contact already belongs to an account, its holder is told so instead of
    receiving a code, and the return value looks the same (no code matches it): sign-up does
    not reveal who has an account. Raises ValidationError, per field."""
    first_name, last_name = _clean_names(first_name, last_name)
    email = (email or "").strip()
    try:
        phone = phone_normalize(phone)
    except ValidationError as error:
        raise ValidationError({"phone": error}) from error
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise ValidationError({"email": error}) from error
    if not email and not phone:
        raise ValidationError(
            {
                "email": ValidationError(
                    _("Indiquez une adresse électronique ou un numéro de portable."),
                    code="contact_required",
                )
            }
        )
    if email and phone:
        raise ValidationError(
            {
                "phone": ValidationError(
                    _(
                        "Indiquez soit une adresse électronique, soit un numéro de portable : "
                        "nous y enverrons un code. Vous pourrez ajouter l'autre ensuite depuis "
                        "votre compte."
                    ),
                    code="one_contact",
                )
            }
        )
    try:
        validate_password(
            password, user=User(first_name=first_name, last_name=last_name, email=email)
        )
    except ValidationError as error:
        raise ValidationError({"password": error}) from error
    channel, value = ("phone", phone) if phone else ("email", email)
    person = {
        "first_name": first_name,
        "last_name": last_name,
        "home_commune_id": home_commune.pk if home_commune is not None else None,
        "password_hash": make_password(password),
    }
    return _signup_code_send(channel=channel, value=value, person=person, ip_address=ip_address)


SIGNUP_PERSON_FIELDS = ("first_name", "last_name", "home_commune_id", "password_hash")


def user_signup_code_resend(*, pending: dict, ip_address: str | None = None) -> dict:
    """A new code for a pending sign-up (the SMS did not arrive, the code expired or was
    mistyped too often): returns the new pending sign-up, which replaces the old one."""
    person = {name: pending[name] for name in SIGNUP_PERSON_FIELDS}
    return _signup_code_send(
        channel=pending["channel"], value=pending["value"], person=person, ip_address=ip_address
    )


def _signup_code_send(*, channel: str, value: str, person: dict, ip_address: str | None) -> dict:
    pending, code = _contact_code_new(channel=channel, value=value)
    pending.update(person)
    name = f"{person['first_name']} {person['last_name']}"
    with transaction.atomic():
        if users_matching_contact(**{channel: value}).exists():
            # No 6-digit code can match a hash of 32 random characters.
            pending["code_hash"] = _contact_code_hash(
                nonce=pending["nonce"], code=secrets.token_hex(16)
            )
            _signup_existing_account_notify(
                channel=channel, value=value, name=name, pending=pending
            )
        else:
            try:
                _contact_code_send(pending=pending, code=code, name=name)
            except ValueError as error:
                raise ValidationError({channel: ValidationError(str(error))}) from error
        audit_log(
            actor=None,
            action="accounts.signup_code_sent",
            data={"channel": channel},
            ip_address=ip_address,
        )
    return pending


def _signup_existing_account_notify(*, channel: str, value: str, name: str, pending: dict) -> None:
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    if channel == "phone":
        body = _(
            "%(platform)s : ce numéro a déjà un compte. Pour vous connecter, choisissez "
            '"Recevoir un code par SMS". Si vous n\'avez rien demandé, ignorez ce message.'
        ) % {"platform": platform}
    else:
        body = _(
            "Bonjour,\n\nQuelqu'un, peut-être vous, a voulu créer un compte sur %(platform)s "
            "avec cette adresse. Elle a déjà un compte : pour vous connecter, choisissez "
            "« Recevoir un lien par courriel » sur la page de connexion.\n\n"
            "Si vous n'avez rien demandé, ignorez ce message : votre compte reste protégé."
        ) % {"platform": platform}
    _notify_quietly(
        recipient=Recipient(
            name=name,
            email=value if channel == "email" else "",
            phone=value if channel == "phone" else "",
        ),
        subject=_("Vous avez déjà un compte %(platform)s") % {"platform": platform},
        body=body,
        key=f"accounts.signup_existing:{pending['nonce']}",
        channels=["sms" if channel == "phone" else "email"],
    )


def user_signup_complete(
    *, pending: dict, code: str, ip_address: str | None = None
) -> ContactCodeCheck:
    """Step 2 of self sign-up: create the account when `code` is the one sent at step 1,
    before it expires and within settings.ONE_TIME_CODE_MAX_ATTEMPTS tries (a wrong one
    counts in pending["attempts"]: the caller keeps the dict). The account holds the contact
    thus proven and the password chosen at step 1; the person holds the resident role (no
    membership). Raises ValidationError when the contact was taken meanwhile."""
    reason = _contact_code_check(pending, code)
    if reason != "ok":
        return ContactCodeCheck(reason=reason)
    channel, value = pending["channel"], pending["value"]
    email = value if channel == "email" else ""
    phone = value if channel == "phone" else ""
    home_commune = (
        commune_list().filter(pk=pending["home_commune_id"]).first()
        if pending.get("home_commune_id")
        else None
    )
    with transaction.atomic():
        _check_contact_unique(email=email, phone=phone)
        user = _create_with_unique_username(
            first_name=pending["first_name"],
            last_name=pending["last_name"],
            email=email,
            phone=phone,
            home_commune=home_commune,
            prefers_sms=bool(phone),
            password=pending["password_hash"],
        )
        audit_log(
            actor=user,
            action="accounts.user_registered",
            target=user,
            data={"verified": channel},
            ip_address=ip_address,
        )
    return ContactCodeCheck(reason="ok", user=user)


# --- Personal data: export and erasure --------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_export(*, actor, user, ip_address: str | None = None) -> dict:
    """Everything the platform holds about `user`, ready for JSON: profile, memberships,
    one-time logins and API tokens (metadata only, never secrets), two-factor devices
    (metadata), erasure requests, audit rows where the person is the author or the subject
    (see _audit_export for what is left out of rows written by others), notifications
    addressed to them, and what other modules registered (accounts.personal_data). The export
    itself is audited."""
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
        audit_log(
            actor=actor,
            action="accounts.personal_data_exported",
            target=user,
            ip_address=ip_address,
        )
    return data


def _audit_export(user) -> list[dict]:
    """Audit rows where the person is the author or the subject.

    - Rows the person wrote are theirs: date, action, details and their address. When they
      acted on someone else (a staff member), that other person and the details are left
      out: they are not the staff member's personal data.
    - Rows someone else wrote about them (an agent, an administrator, the platform itself)
      keep the date and the action only, with a neutral author: "un agent",
      "l'administration" (platform administrators) or "la plateforme". The author's name,
      their address and the details (which may name the author, or record what they typed)
      are the staff member's, not the person's."""
    about_user = Q(target_type=user._meta.label_lower, target_id=str(user.pk))
    rows = list(
        AuditLog.objects.filter(Q(actor_id=user.pk) | about_user).order_by("created_at", "pk")
    )
    other_actors = {row.actor_id for row in rows if row.actor_id not in (None, user.pk)}
    administrators = set(
        Membership.objects.filter(
            user_id__in=other_actors, role=Role.PLATFORM_ADMIN, is_active=True
        ).values_list("user_id", flat=True)
    )
    exported = []
    for row in rows:
        if row.actor_id == user.pk:
            is_about_user = row.target_type == user._meta.label_lower and row.target_id == str(
                user.pk
            )
            visible = is_about_user or row.target_type in OWN_OBJECT_TYPES
            exported.append(
                {
                    "date": _iso(row.created_at),
                    "actor": row.actor_repr,
                    "action": row.action,
                    "target_type": row.target_type,
                    "target": row.target_repr if visible else "",
                    "details": row.data if visible else {},
                    "ip_address": row.ip_address,
                }
            )
            continue
        if row.actor_id is None:
            author = _("la plateforme")
        elif row.actor_id in administrators:
            author = _("l'administration")
        else:
            author = _("un agent")
        exported.append(
            {
                "date": _iso(row.created_at),
                "actor": author,
                "action": row.action,
                "target_type": row.target_type,
                "target": "",
                "details": {},
                "ip_address": None,
            }
        )
    return exported


def _notifications_export(user) -> list[dict]:
    """Notifications addressed to the person. The text of a login link or code, and of a code
    proving a new e-mail or phone, is left out: it may still be valid, and an administrator
    exporting for someone must not be able to log in as them."""
    exported = []
    for notification in Notification.objects.filter(user=user).order_by("created_at", "pk"):
        is_secret = notification.key.startswith(
            (ONE_TIME_LOGIN_KEY_PREFIX, CONTACT_CODE_KEY_PREFIX)
        )
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


def erasure_request_create(
    *, actor, reason: str = "", ip_address: str | None = None
) -> PersonalDataRequest:
    """Ask for one's account and data to be erased. A person has at most one pending request
    (a database constraint): asking again, even at the same moment from two tabs, returns
    it."""
    if not is_authenticated(actor):
        raise PermissionDenied
    existing = erasure_request_pending_for(actor=actor)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            request = PersonalDataRequest.objects.create(
                user=actor, user_repr=str(actor)[:200], reason=(reason or "").strip()
            )
            audit_log(
                actor=actor,
                action="accounts.erasure_requested",
                target=request,
                ip_address=ip_address,
            )
    except IntegrityError:
        # A simultaneous request was created first: the same answer as the check above.
        existing = erasure_request_pending_for(actor=actor)
        if existing is None:
            raise
        return existing
    return request


def erasure_request_process(
    *,
    actor,
    request: PersonalDataRequest,
    approve: bool,
    response: str,
    ip_address: str | None = None,
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
                user_anonymise(actor=actor, user=person, ip_address=ip_address)
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
            ip_address=ip_address,
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


def user_anonymise(*, actor, user, ip_address: str | None = None) -> None:
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
        audit_log(
            actor=actor, action="accounts.user_anonymised", target=user, ip_address=ip_address
        )


def _notifications_anonymise(user) -> None:
    """Clear the addresses and texts of the messages sent to the person; unsent ones are
    stopped, printable letters are deleted once the erasure is committed. The rows stay, empty
    of personal data, as the trace that a message was sent (core.notifications'
    notifications_erase would delete them outright)."""
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
