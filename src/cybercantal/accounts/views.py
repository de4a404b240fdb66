"""Pages of the accounts app: login (code by SMS, link by e-mail, password), two-factor
authentication, the account page, personal data, accounts created on someone's behalf.

Views stay thin: forms validate, services write, selectors read."""

import json
import math
import time
from datetime import timedelta

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cybercantal.core.http import client_ip

from . import forms, selectors, services
from .models import ApiToken
from .perms import (
    can_create_account_on_behalf,
    can_disable_two_factor,
    can_enable_two_factor,
    can_process_erasure,
)
from .ratelimit import (
    RateLimitExceeded,
    rate_limit_hit,
    rate_limit_refund,
    rate_limit_reset,
)
from .tokens import api_token_create, api_token_list
from .tokens import api_token_revoke as token_revoke

# Session keys.
PENDING_LOGIN_KEY = "accounts_pending_login"  # password or one-time login awaiting its TOTP
CODE_IDENTIFIER_KEY = "accounts_code_identifier"  # the number a code was asked for
CODE_FAILURES_KEY = "accounts_code_failures"  # wrong codes typed in this browser
SIGNUP_KEY = "accounts_pending_signup"  # a sign-up waiting for the code sent to its contact
CONTACT_CHANGE_KEY = "accounts_pending_contact"  # new e-mail / phone waiting for their code
PENDING_LOGIN_SECONDS = 5 * 60

PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"  # noqa: S105 - a dotted path
LOGIN_FORM_PREFIXES = {"password": "mdp", "link": "lien", "code": "sms"}


# --- Helpers --------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def _next_url(request: HttpRequest) -> str:
    return _safe_next(request, request.POST.get("next") or request.GET.get("next")) or reverse(
        settings.LOGIN_REDIRECT_URL
    )


def _too_many(request: HttpRequest, exceeded: RateLimitExceeded) -> HttpResponse:
    minutes = max(1, math.ceil(exceeded.retry_after_seconds / 60))
    retry_at = timezone.localtime(timezone.now() + timedelta(seconds=exceeded.retry_after_seconds))
    response = render(
        request,
        "accounts/rate_limited.html",
        {"minutes": minutes, "retry_at": retry_at},
        status=429,
    )
    response["Retry-After"] = str(exceeded.retry_after_seconds)
    return response


def _complete_login(
    request: HttpRequest, user, *, backend: str, method: str, next_url: str
) -> HttpResponse:
    """Open the session, or, when the person has two-factor authentication, hold the login
    until the second factor is checked: the session is not signed in before that, so that no
    page can be reached with the first factor alone. The login is audited when the session
    opens ("accounts.login"); a first factor awaiting the second is audited on its own."""
    ip = client_ip(request)
    if selectors.two_factor_has_device(user):
        services.login_first_factor_record(user=user, method=method, ip_address=ip)
        request.session.cycle_key()
        request.session[PENDING_LOGIN_KEY] = {
            "user_id": user.pk,
            "backend": backend,
            "method": method,
            "at": time.time(),
            "next": next_url,
        }
        return redirect("accounts:two_factor_verify")
    auth_login(request, user, backend=backend)
    services.login_record(user=user, method=method, ip_address=ip)
    rate_limit_reset(user=user)
    return redirect(next_url)


def _pending_login_user(request: HttpRequest):
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        request.session.pop(PENDING_LOGIN_KEY, None)
        return None, None
    return selectors.user_get_active(user_id=pending.get("user_id")), pending


def _second_factor_required(request: HttpRequest) -> HttpResponse | None:
    """A redirect to the second-factor check when the person has two-factor authentication
    but this session has not verified it (a session opened before the device was added, or
    by someone else): sensitive changes need the verified session. None otherwise."""
    user = request.user
    if selectors.two_factor_has_device(user) and not user.is_verified():
        next_path = request.get_full_path() if request.method == "GET" else request.path
        return redirect(f"{reverse('accounts:two_factor_verify')}?{urlencode({'next': next_path})}")
    return None


def _code_error(reason: str) -> str:
    """What to tell a person whose code for a sign-up or a new contact was refused."""
    if reason == "expired":
        return _("Ce code a expiré : demandez-en un nouveau.")
    if reason == "locked":
        return _("Trop d'essais avec ce code : demandez-en un nouveau.")
    return _(
        "Ce code ne convient pas : il est peut-être mal recopié. Vérifiez-le ou demandez un "
        "nouveau code."
    )


def _login_context(request: HttpRequest, **bound) -> dict:
    """The three login forms; the one that was just submitted comes bound, with its errors."""
    return {
        "code_form": bound.get("code") or forms.CodeRequestForm(prefix=LOGIN_FORM_PREFIXES["code"]),
        "link_form": bound.get("link") or forms.LinkRequestForm(prefix=LOGIN_FORM_PREFIXES["link"]),
        "password_form": bound.get("password")
        or forms.PasswordLoginForm(prefix=LOGIN_FORM_PREFIXES["password"]),
        "next": _safe_next(request, request.POST.get("next") or request.GET.get("next")) or "",
        "link_minutes": settings.ONE_TIME_LINK_MINUTES,
        "code_minutes": settings.ONE_TIME_CODE_MINUTES,
    }


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages showing a secret once (backup codes, API token) must not stay in any cache.
    response["Cache-Control"] = "no-store"
    return response


# --- Login ----------------------------------------------------------------------------------


@sensitive_post_parameters("mdp-password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login page: code by SMS, link by e-mail, password. Its POST is the password login."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    if request.method == "GET":
        return render(request, "accounts/login.html", _login_context(request))

    form = forms.PasswordLoginForm(request.POST, prefix=LOGIN_FORM_PREFIXES["password"])
    if not form.is_valid():
        return render(request, "accounts/login.html", _login_context(request, password=form))
    identifier = form.cleaned_data["identifier"]
    ip = client_ip(request)
    account = selectors.user_find_by_identifier(identifier=identifier)
    # Counted before the password hasher runs: see accounts.ratelimit.
    if exceeded := rate_limit_hit(identifier=identifier, ip=ip, action="password", user=account):
        return _too_many(request, exceeded)
    user = services.password_login_check(
        identifier=identifier, password=form.cleaned_data["password"], ip_address=ip
    )
    if user is None:
        form.add_error(
            None,
            _(
                "Identifiant ou mot de passe incorrect. Vous pouvez aussi recevoir un code par "
                "SMS ou un lien par courriel."
            ),
        )
        return render(request, "accounts/login.html", _login_context(request, password=form))
    rate_limit_refund(identifier=identifier, ip=ip, user=account)
    return _complete_login(
        request, user, backend=PASSWORD_BACKEND, method="password", next_url=_next_url(request)
    )


@never_cache
@require_POST
def login_link_request(request: HttpRequest) -> HttpResponse:
    form = forms.LinkRequestForm(request.POST, prefix=LOGIN_FORM_PREFIXES["link"])
    if not form.is_valid():
        return render(request, "accounts/login.html", _login_context(request, link=form))
    identifier = form.cleaned_data["identifier"]
    ip = client_ip(request)
    account = selectors.user_find_by_identifier(identifier=identifier)
    if exceeded := rate_limit_hit(
        identifier=identifier, ip=ip, action="link_request", user=account
    ):
        return _too_many(request, exceeded)
    services.one_time_link_request(
        identifier=identifier, base_url=request.build_absolute_uri("/"), ip_address=ip
    )
    # The same page whether or not an account matches.
    return render(
        request,
        "accounts/login_link_sent.html",
        {"minutes": settings.ONE_TIME_LINK_MINUTES},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def login_link(request: HttpRequest, login_id: int, secret: str) -> HttpResponse:
    """A login link. Opening it (GET) only shows a button: mail software and antivirus open
    links in advance to inspect them, which would otherwise use up the single-use link."""
    if request.method == "GET":
        return render(request, "accounts/login_link.html", {})
    check = services.one_time_link_verify(login_id=login_id, secret=secret)
    if not check.ok:
        return render(request, "accounts/login_link.html", {"reason": check.reason}, status=400)
    return _complete_login(
        request,
        check.user,
        backend=services.ONE_TIME_LOGIN_BACKEND,
        method="email_link",
        next_url=reverse(settings.LOGIN_REDIRECT_URL),
    )


@never_cache
@require_POST
def login_code_request(request: HttpRequest) -> HttpResponse:
    form = forms.CodeRequestForm(request.POST, prefix=LOGIN_FORM_PREFIXES["code"])
    if not form.is_valid():
        return render(request, "accounts/login.html", _login_context(request, code=form))
    identifier = form.cleaned_data["identifier"]
    ip = client_ip(request)
    account = selectors.user_find_by_identifier(identifier=identifier)
    if exceeded := rate_limit_hit(
        identifier=identifier, ip=ip, action="code_request", user=account
    ):
        return _too_many(request, exceeded)
    services.one_time_code_request(identifier=identifier, ip_address=ip)
    request.session[CODE_IDENTIFIER_KEY] = identifier
    request.session[CODE_FAILURES_KEY] = 0
    next_url = _safe_next(request, request.POST.get("next"))
    target = reverse("accounts:login_code_verify")
    if next_url:
        target += "?" + urlencode({"next": next_url})
    # The same message whether or not an account matches.
    messages.info(
        request,
        _(
            "Si ce numéro correspond à un compte, un code vient de lui être envoyé par SMS. "
            "Il est valable %(minutes)s minutes."
        )
        % {"minutes": settings.ONE_TIME_CODE_MINUTES},
    )
    return redirect(target)


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_verify(request: HttpRequest) -> HttpResponse:
    identifier = request.session.get(CODE_IDENTIFIER_KEY)
    if not identifier:
        return redirect("accounts:login")
    max_attempts = settings.ONE_TIME_CODE_MAX_ATTEMPTS
    context = {"identifier": identifier, "next": _safe_next(request, request.GET.get("next"))}
    if request.method == "GET":
        context["form"] = forms.CodeVerifyForm()
        return render(request, "accounts/login_code.html", context)

    form = forms.CodeVerifyForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "accounts/login_code.html", context)
    ip = client_ip(request)
    account = selectors.user_find_by_identifier(identifier=identifier)
    if exceeded := rate_limit_hit(identifier=identifier, ip=ip, action="code_check", user=account):
        return _too_many(request, exceeded)
    check = services.one_time_code_verify(
        identifier=identifier, code=form.cleaned_data["code"], ip_address=ip
    )
    if not check.ok:
        failures = request.session.get(CODE_FAILURES_KEY, 0) + 1
        request.session[CODE_FAILURES_KEY] = failures
        if failures >= max_attempts:
            # Counted in the browser, not per account, so that it says nothing about whether
            # the number has an account; the codes themselves are locked by the service.
            form.add_error(
                "code",
                _("Trop d'essais avec ce code : demandez un nouveau code ci-dessous."),
            )
            context["ask_new_code"] = True
        else:
            form.add_error(
                "code",
                _(
                    "Ce code ne convient pas : il est peut-être mal recopié, expiré ou déjà "
                    "utilisé. Vérifiez-le ou demandez un nouveau code."
                ),
            )
        return render(request, "accounts/login_code.html", context)
    request.session.pop(CODE_IDENTIFIER_KEY, None)
    request.session.pop(CODE_FAILURES_KEY, None)
    rate_limit_refund(identifier=identifier, ip=ip, user=account)
    return _complete_login(
        request,
        check.user,
        backend=services.ONE_TIME_LOGIN_BACKEND,
        method="sms_code",
        next_url=_next_url(request),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """Logging out is a POST (a link or an image on another site cannot log anyone out); the
    GET page shows the button."""
    if request.method == "POST":
        auth_logout(request)
        messages.success(request, _("Vous êtes déconnecté(e). À bientôt !"))
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/logout.html")


# --- Two-factor authentication --------------------------------------------------------------


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Second step of a login (pending in the session), or check of a signed-in administrator
    whose session is not verified yet (RequireTwoFactorMiddleware sends them here)."""
    pending_user, pending = None, None
    if request.user.is_authenticated:
        user = request.user
        if user.is_verified():
            return redirect(_next_url(request))
        if not selectors.two_factor_has_device(user):
            if can_enable_two_factor(user):
                return redirect(_with_next("accounts:two_factor_setup", request))
            return redirect(_next_url(request))
    else:
        pending_user, pending = _pending_login_user(request)
        if pending_user is None:
            messages.info(request, _("Votre connexion a expiré : reconnectez-vous."))
            return redirect("accounts:login")
        user = pending_user

    form = forms.TwoFactorVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = user.get_username()
        ip = client_ip(request)
        if exceeded := rate_limit_hit(identifier=identifier, ip=ip, action="two_factor", user=user):
            return _too_many(request, exceeded)
        device = services.two_factor_verify(
            user=user, token=form.cleaned_data["token"], ip_address=ip
        )
        if device is None:
            form.add_error(
                "token",
                _(
                    "Ce code ne convient pas. Vérifiez l'heure de votre téléphone, attendez le "
                    "code suivant ou utilisez un code de secours."
                ),
            )
        else:
            next_url = _next_url(request)
            rate_limit_refund(identifier=identifier, ip=ip, user=user)
            rate_limit_reset(user=user)
            if pending_user is not None:
                next_url = _safe_next(request, pending.get("next")) or next_url
                request.session.pop(PENDING_LOGIN_KEY, None)
                auth_login(request, pending_user, backend=pending["backend"])
                services.login_record(
                    user=pending_user,
                    method=pending.get("method", "password"),
                    second_factor=type(device).__name__,
                    ip_address=ip,
                )
            django_otp.login(request, device)
            if device.__class__.__name__ == "StaticDevice":
                remaining = device.token_set.count()
                messages.warning(
                    request,
                    _(
                        "Vous avez utilisé un code de secours ; il vous en reste %(count)s. "
                        "Pensez à en générer de nouveaux depuis votre compte."
                    )
                    % {"count": remaining},
                )
            return redirect(next_url)
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": _safe_next(request, request.GET.get("next")) or ""},
    )


def _with_next(view_name: str, request: HttpRequest) -> str:
    url = reverse(view_name)
    next_url = _safe_next(request, request.GET.get("next"))
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _qr_svg(data: str) -> str:
    """The QR code as inline SVG (no image file, no JavaScript), announced as an image with
    its title by screen readers. The data is an otpauth:// URI built by django-otp, with the
    username percent-encoded: nothing in it can break out of the SVG."""
    svg = segno.make(data, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code à scanner"), omitsize=False
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


@sensitive_post_parameters("token")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), confirm with a
    first code, note the backup codes shown once."""
    user = request.user
    if not can_enable_two_factor(user):
        raise PermissionDenied
    enabled = selectors.two_factor_has_device(user)
    if enabled and not user.is_verified():
        # Replacing a device needs the current one: otherwise a stolen session would do.
        return redirect(_with_next("accounts:two_factor_verify", request))
    device = services.two_factor_setup_start(actor=user)
    form = forms.TwoFactorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.two_factor_setup_confirm(
                actor=user,
                token=form.cleaned_data["token"],
                keep_session_key=request.session.session_key,
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            form.add_error("token", error)
        else:
            # The other sessions have ended; this one gets a new key, in case the old one
            # was known to someone else.
            request.session.cycle_key()
            django_otp.login(request, selectors.two_factor_authenticator(user=user))
            return _no_store(
                render(
                    request,
                    "accounts/two_factor_backup_codes.html",
                    {
                        "codes": codes,
                        "next": _safe_next(request, request.GET.get("next")),
                        "just_enabled": True,
                    },
                )
            )
    return _no_store(
        render(
            request,
            "accounts/two_factor_setup.html",
            {
                "form": form,
                "enabled": enabled,
                "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - generated SVG
                "secret": services.totp_secret_text(device),
                "can_disable": can_disable_two_factor(user),
                "issuer": settings.OTP_TOTP_ISSUER,
            },
        )
    )


@never_cache
@login_required
@require_POST
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_verified():
        return redirect("accounts:two_factor_verify")
    codes = services.two_factor_backup_codes_regenerate(actor=user, ip_address=client_ip(request))
    return _no_store(render(request, "accounts/two_factor_backup_codes.html", {"codes": codes}))


@never_cache
@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_disable_two_factor(user):
        raise PermissionDenied
    if selectors.two_factor_has_device(user) and not user.is_verified():
        return redirect("accounts:two_factor_verify")
    services.two_factor_disable(actor=user, ip_address=client_ip(request))
    request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
    messages.success(request, _("La double authentification est désactivée."))
    return redirect("accounts:profile")


# --- Account page -----------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    memberships = list(selectors.membership_list(actor=user))
    return render(
        request,
        "accounts/profile.html",
        {
            "memberships": memberships,
            "two_factor_allowed": can_enable_two_factor(user),
            "two_factor_enabled": selectors.two_factor_has_device(user),
            "can_create_on_behalf": can_create_account_on_behalf(user),
            "can_process_erasure": can_process_erasure(user),
            "pending_erasure": selectors.erasure_request_pending_for(actor=user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest) -> HttpResponse:
    # The e-mail and phone receive login links and codes: changing them is a sensitive change.
    if redirect_to_check := _second_factor_required(request):
        return redirect_to_check
    user = request.user
    initial = {
        "email": user.email,
        "phone": user.phone,
        "home_commune": user.home_commune_id,
        "postal_address": user.postal_address,
        "prefers_sms": user.prefers_sms,
        "prefers_letter": user.prefers_letter,
    }
    form = forms.ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        try:
            update = services.user_update_contact(
                actor=user, user=user, ip_address=ip, **form.cleaned_data
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            if not update.to_confirm:
                messages.success(request, _("Vos coordonnées sont enregistrées."))
                return redirect("accounts:profile")
            pending = _pending_contact_changes(request)
            for channel, value in update.to_confirm.items():
                if exceeded := rate_limit_hit(
                    identifier=value, ip=ip, action="contact_code_request"
                ):
                    return _too_many(request, exceeded)
                try:
                    pending[channel] = services.contact_change_start(
                        actor=user, channel=channel, value=value, ip_address=ip
                    )
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
            request.session[CONTACT_CHANGE_KEY] = pending
            messages.info(
                request,
                _(
                    "Vos coordonnées sont enregistrées, sauf la nouvelle adresse électronique ou "
                    "le nouveau numéro : recopiez d'abord le code que nous venons d'y envoyer."
                ),
            )
            return redirect("accounts:contact_verify")
    return render(
        request,
        "accounts/contact_edit.html",
        {"form": form, "pending": _pending_contact_changes(request)},
    )


def _pending_contact_changes(request: HttpRequest) -> dict[str, dict]:
    """The new e-mail / phone of the signed-in person waiting for their code, by channel."""
    pending = request.session.get(CONTACT_CHANGE_KEY) or {}
    return {
        channel: item
        for channel, item in pending.items()
        if item.get("user_id") == request.user.pk and item.get("expires_at", 0) > time.time()
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def contact_verify(request: HttpRequest) -> HttpResponse:
    """Type the code sent to a new e-mail address or mobile number: the new value is stored
    only then. One form per value waiting; each can also be cancelled."""
    if redirect_to_check := _second_factor_required(request):
        return redirect_to_check
    user = request.user
    pending = _pending_contact_changes(request)
    if not pending:
        return redirect("accounts:contact_edit")
    code_forms = {
        channel: forms.ContactCodeForm(prefix=channel, channel=channel) for channel in pending
    }
    status = 200
    channel = request.POST.get("channel")
    if request.method == "POST" and channel in pending:
        if request.POST.get("cancel"):
            pending.pop(channel)
            request.session[CONTACT_CHANGE_KEY] = pending
            messages.info(request, _("Le changement est annulé."))
            return redirect("accounts:contact_verify" if pending else "accounts:profile")
        form = forms.ContactCodeForm(request.POST, prefix=channel, channel=channel)
        code_forms[channel] = form
        if form.is_valid():
            item = pending[channel]
            ip = client_ip(request)
            if exceeded := rate_limit_hit(
                identifier=item["value"], ip=ip, action="contact_code_check"
            ):
                return _too_many(request, exceeded)
            try:
                check = services.contact_change_confirm(
                    actor=user, pending=item, code=form.cleaned_data["code"], ip_address=ip
                )
            except ValidationError as error:
                # The code was right, but another account took the value meanwhile.
                pending.pop(channel)
                request.session[CONTACT_CHANGE_KEY] = pending
                messages.error(request, " ".join(error.messages))
                return redirect("accounts:contact_verify" if pending else "accounts:contact_edit")
            else:
                if check.ok:
                    pending.pop(channel)
                    request.session[CONTACT_CHANGE_KEY] = pending
                    rate_limit_refund(identifier=item["value"], ip=ip)
                    messages.success(
                        request,
                        _("Votre nouveau numéro est enregistré.")
                        if channel == "phone"
                        else _("Votre nouvelle adresse électronique est enregistrée."),
                    )
                    return redirect("accounts:contact_verify" if pending else "accounts:profile")
                form.add_error("code", _code_error(check.reason))
            request.session[CONTACT_CHANGE_KEY] = pending
            status = 400
    items = [
        {"channel": channel, "value": item["value"], "form": code_forms[channel]}
        for channel, item in pending.items()
    ]
    return render(
        request,
        "accounts/contact_verify.html",
        {"items": items, "minutes": settings.ONE_TIME_CODE_MINUTES},
        status=status,
    )


def _add_service_errors(
    form, error: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Attach a service's ValidationError to the form's fields (or to the form)."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            field = (field_map or {}).get(field, field)
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    if redirect_to_check := _second_factor_required(request):
        return redirect_to_check
    user = request.user
    form = forms.PasswordSetForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_password_set(
                actor=user,
                user=user,
                password=form.cleaned_data["new_password1"],
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            # Other sessions end; this one stays open.
            update_session_auth_hash(request, user)
            messages.success(request, _("Votre mot de passe est enregistré."))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "has_password": user.has_usable_password()},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List, create and revoke one's personal API tokens. A new token is shown once. A
    person with two-factor authentication reaches the page from a verified session only: a
    token works without the second factor (see accounts.perms)."""
    if redirect_to_check := _second_factor_required(request):
        return redirect_to_check
    user = request.user
    form = forms.ApiTokenCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = api_token_create(
                actor=user,
                name=form.cleaned_data["name"],
                second_factor_verified=user.is_verified(),
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            form.add_error("name", error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            created = {"token": token, "raw": raw}
            form = forms.ApiTokenCreateForm()
    response = render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": api_token_list(actor=user), "created": created},
    )
    return _no_store(response)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token_revoke(actor=request.user, token_id=token_id, ip_address=client_ip(request))
    except ApiToken.DoesNotExist as error:
        raise Http404 from error
    messages.success(request, _("Le jeton est révoqué : il ne fonctionne plus."))
    return redirect("accounts:api_tokens")


# --- Personal data ------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def personal_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/personal_data.html",
        {"pending_erasure": selectors.erasure_request_pending_for(actor=request.user)},
    )


@never_cache
@login_required
@require_GET
def personal_data_download(request: HttpRequest) -> HttpResponse:
    data = services.personal_data_export(
        actor=request.user, user=request.user, ip_address=client_ip(request)
    )
    filename = f"mes-donnees-{timezone.localdate():%Y-%m-%d}.json"
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erasure_request(request: HttpRequest) -> HttpResponse:
    pending = selectors.erasure_request_pending_for(actor=request.user)
    form = forms.ErasureRequestForm(request.POST or None)
    if request.method == "POST" and pending is None and form.is_valid():
        services.erasure_request_create(
            actor=request.user, reason=form.cleaned_data["reason"], ip_address=client_ip(request)
        )
        messages.success(
            request,
            _(
                "Votre demande d'effacement est enregistrée. Un administrateur la traitera ; "
                "vous pouvez continuer à utiliser votre compte d'ici là."
            ),
        )
        return redirect("accounts:profile")
    return render(request, "accounts/erasure_request.html", {"form": form, "pending": pending})


@never_cache
@login_required
@require_GET
def erasure_requests(request: HttpRequest) -> HttpResponse:
    """Pending erasure requests (platform administrators)."""
    pending = selectors.erasure_request_list(actor=request.user)
    return render(
        request,
        "accounts/erasure_requests.html",
        {"items": [(item, forms.ErasureProcessForm(prefix=f"r{item.pk}")) for item in pending]},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erasure_request_process(request: HttpRequest, request_id: int) -> HttpResponse:
    """The decision on one request (the admin site links here). GET shows its form alone."""
    item = selectors.erasure_request_get(actor=request.user, request_id=request_id)
    if item is None:
        raise Http404
    if request.method == "GET":
        if item.status != item.Status.PENDING:
            messages.info(request, _("Cette demande a déjà été traitée."))
            return redirect("accounts:erasure_requests")
        form = forms.ErasureProcessForm(prefix=f"r{item.pk}")
        return render(request, "accounts/erasure_requests.html", {"items": [(item, form)]})
    form = forms.ErasureProcessForm(request.POST, prefix=f"r{item.pk}")
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.erasure_request_process(
                actor=request.user,
                request=item,
                approve=approve,
                response=form.cleaned_data["response"],
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Le compte est effacé.") if approve else _("La demande est refusée."),
            )
            return redirect("accounts:erasure_requests")
    pending = selectors.erasure_request_list(actor=request.user)
    items = [
        (other, form if other.pk == item.pk else forms.ErasureProcessForm(prefix=f"r{other.pk}"))
        for other in pending
    ]
    return render(request, "accounts/erasure_requests.html", {"items": items}, status=400)


# --- Accounts created on someone's behalf, self sign-up ---------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_create_on_behalf(request: HttpRequest) -> HttpResponse:
    if not can_create_account_on_behalf(request.user):
        raise PermissionDenied
    form = forms.OnBehalfForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_create_on_behalf(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            return render(request, "accounts/on_behalf_done.html", {"person": person})
    return render(request, "accounts/on_behalf.html", {"form": form})


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Self sign-up, step 1: who the person is, one contact (e-mail or mobile number) and a
    password. A code goes to the contact; the account is created at step 2 (register_verify),
    when the code comes back, so that no one can open an account with someone else's address
    or number."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contact = data["phone"] or data["email"]
        ip = client_ip(request)
        if exceeded := rate_limit_hit(identifier=contact, ip=ip, action="signup_request"):
            return _too_many(request, exceeded)
        try:
            pending = services.user_signup_start(
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                home_commune=data["home_commune"],
                password=data["password1"],
                ip_address=ip,
            )
        except ValidationError as error:
            rate_limit_refund(identifier=contact, ip=ip)  # nothing was sent
            _add_service_errors(form, error, field_map={"password": "password1"})
        else:
            request.session[SIGNUP_KEY] = pending
            return redirect("accounts:register_verify")
    return render(request, "accounts/register.html", {"form": form})


def _pending_signup(request: HttpRequest) -> dict | None:
    pending = request.session.get(SIGNUP_KEY)
    return pending if pending and pending.get("channel") in services.CONTACT_CHANNELS else None


@never_cache
@require_http_methods(["GET", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    """Self sign-up, step 2: the code sent to the contact creates the account and logs the
    person in."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    pending = _pending_signup(request)
    if pending is None:
        return redirect("accounts:register")
    form = forms.ContactCodeForm(request.POST or None, channel=pending["channel"])
    context = {
        "form": form,
        "channel": pending["channel"],
        "contact": pending["value"],
        "minutes": settings.ONE_TIME_CODE_MINUTES,
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, "accounts/register_verify.html", context)
    ip = client_ip(request)
    if exceeded := rate_limit_hit(identifier=pending["value"], ip=ip, action="signup_code"):
        return _too_many(request, exceeded)
    try:
        check = services.user_signup_complete(
            pending=pending, code=form.cleaned_data["code"], ip_address=ip
        )
    except ValidationError as error:
        # The code was right, but another account took the contact meanwhile.
        request.session.pop(SIGNUP_KEY, None)
        _add_service_errors(form, error)
        context["contact_taken"] = True
        return render(request, "accounts/register_verify.html", context, status=400)
    if not check.ok:
        request.session[SIGNUP_KEY] = pending  # the wrong try is counted
        form.add_error("code", _code_error(check.reason))
        context["ask_new_code"] = check.reason in ("expired", "locked")
        return render(request, "accounts/register_verify.html", context, status=400)
    request.session.pop(SIGNUP_KEY, None)
    rate_limit_refund(identifier=pending["value"], ip=ip)
    auth_login(request, check.user, backend=PASSWORD_BACKEND)
    services.login_record(user=check.user, method="signup", ip_address=ip)
    messages.success(
        request,
        _("Bienvenue ! Votre compte est créé. Votre identifiant : %(username)s")
        % {"username": check.user.get_username()},
    )
    return redirect("accounts:profile")


@never_cache
@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    """A new code for the pending sign-up (the previous one stops working)."""
    pending = _pending_signup(request)
    if pending is None or request.user.is_authenticated:
        return redirect("accounts:register")
    ip = client_ip(request)
    if exceeded := rate_limit_hit(identifier=pending["value"], ip=ip, action="signup_request"):
        return _too_many(request, exceeded)
    request.session[SIGNUP_KEY] = services.user_signup_code_resend(pending=pending, ip_address=ip)
    messages.info(request, _("Un nouveau code vient de vous être envoyé."))
    return redirect("accounts:register_verify")
