"""Confirming a mobile number by a 6-digit SMS code, for a booking or a waiting-list
inscription without an account: send the code, check it, send a new one, and the page shown
when codes are asked or tried too often."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cybercantal.accounts.ratelimit import RateLimitExceeded, rate_limit_hit, rate_limit_refund
from cybercantal.core.http import client_ip
from cybercantal.core.notifications import Recipient, notification_send

from ..forms import (
    CodeVerifyForm,
)
from ._common import _local, time_text

# Session keys of the booking without an account.
PENDING_KEY = "booking_pending"  # the slot, the person, the hashed SMS code
VERIFIED_KEY = "booking_verified_contact"  # a phone confirmed by a code, for a short while
VERIFIED_SECONDS = 30 * 60
CODE_SALT = "cybercantal.booking.phone-code"


def _verified_contact(request: HttpRequest) -> dict | None:
    contact = request.session.get(VERIFIED_KEY)
    if contact and contact.get("until", 0) > time.time():
        return contact
    request.session.pop(VERIFIED_KEY, None)
    return None


def _too_many(request: HttpRequest, exceeded: RateLimitExceeded) -> HttpResponse:
    minutes = max(1, math.ceil(exceeded.retry_after_seconds / 60))
    retry_at = _local(timezone.now() + dt.timedelta(seconds=exceeded.retry_after_seconds))
    response = render(
        request,
        "booking/rate_limited.html",
        {"minutes": minutes, "retry_time": time_text(retry_at)},
        status=429,
    )
    response["Retry-After"] = str(exceeded.retry_after_seconds)
    return response


def _code_hash(*, nonce: str, phone: str, code: str) -> str:
    return salted_hmac(CODE_SALT, f"{nonce}:{phone}:{code}").hexdigest()


def _send_code(
    request: HttpRequest,
    *,
    name: str,
    phone: str,
    email: str,
    query: str,
    key: str = PENDING_KEY,
    purpose: str = "booking",
):
    """Text a new 6-digit code to the phone and keep its hash in the session under `key`
    (the code itself is never stored), with `query`: what the code will confirm (the slot's
    link for a booking, the request for the waiting list). Returns the rate-limit refusal, or
    None once sent. Raises ValueError (French) when the number cannot receive SMS.

    Each code sent and each code tried counts against the number and the address
    (accounts.ratelimit, the counters of the login by SMS code): a paid SMS must not be
    triggered at will, and 10^6 codes must not be tried."""
    ip = client_ip(request)
    if exceeded := rate_limit_hit(identifier=phone, ip=ip, action="booking_code_request"):
        return exceeded
    code = f"{secrets.randbelow(10**6):06d}"
    nonce = secrets.token_hex(8)
    minutes = settings.ONE_TIME_CODE_MINUTES
    try:
        _notify_code(
            name=name, phone=phone, code=code, nonce=nonce, minutes=minutes, purpose=purpose
        )
    except ValueError:
        rate_limit_refund(identifier=phone, ip=ip)  # nothing was sent
        raise
    request.session[key] = {
        "name": name,
        "phone": phone,
        "email": email,
        "query": query,
        "nonce": nonce,
        "hash": _code_hash(nonce=nonce, phone=phone, code=code),
        "expires": time.time() + minutes * 60,
        "attempts": 0,
    }
    return None


CODE_MESSAGES = {
    "booking": gettext_lazy(
        "%(platform)s : votre code pour confirmer votre rendez-vous est %(code)s. "
        "Il est valable %(minutes)s minutes. Ne le donnez à personne."
    ),
    "waitlist": gettext_lazy(
        "%(platform)s : votre code pour confirmer votre inscription sur la liste d'attente "
        "est %(code)s. Il est valable %(minutes)s minutes. Ne le donnez à personne."
    ),
}


def _notify_code(
    *, name: str, phone: str, code: str, nonce: str, minutes: int, purpose: str = "booking"
) -> None:
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    notification_send(
        recipient=Recipient(name=name, phone=phone),
        subject=_("Votre code de confirmation"),
        body=str(CODE_MESSAGES[purpose]) % {"platform": platform, "code": code, "minutes": minutes},
        key=f"booking-code:{nonce}",  # no personal data: the key is audited
        channels=["sms"],
        sensitive=True,
    )


def _resend_code(
    request: HttpRequest, *, key: str, pending: dict, purpose: str, back_url: str, code_url: str
) -> HttpResponse:
    """ "Recevoir un nouveau code": the same request, a new code."""
    try:
        exceeded = _send_code(
            request,
            name=pending["name"],
            phone=pending["phone"],
            email=pending["email"],
            query=pending["query"],
            key=key,
            purpose=purpose,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(back_url)
    if exceeded:
        return _too_many(request, exceeded)
    messages.info(request, _("Un nouveau code vient de vous être envoyé par SMS."))
    return redirect(code_url)


def _check_code(
    request: HttpRequest, *, key: str, pending: dict, form: CodeVerifyForm, context: dict
) -> HttpResponse | None:
    """Check the code typed in the (valid) form against the session's request under `key`.
    None when it is right: the request leaves the session and the phone counts as confirmed
    for a while (VERIFIED_KEY). Otherwise the code page again, with the reason."""
    phone, ip = pending["phone"], client_ip(request)
    if exceeded := rate_limit_hit(identifier=phone, ip=ip, action="booking_code_check"):
        return _too_many(request, exceeded)
    if not pending.get("hash"):
        form.add_error("code", _("Trop d'essais avec ce code : demandez un nouveau code."))
        context["ask_new_code"] = True
        return render(request, "booking/code.html", context, status=400)
    if time.time() > pending["expires"]:
        form.add_error("code", _("Ce code a expiré : demandez un nouveau code ci-dessous."))
        context["ask_new_code"] = True
        return render(request, "booking/code.html", context, status=400)
    expected = _code_hash(nonce=pending["nonce"], phone=phone, code=form.cleaned_data["code"])
    if not hmac.compare_digest(expected, pending["hash"]):
        pending["attempts"] += 1
        left = settings.ONE_TIME_CODE_MAX_ATTEMPTS - pending["attempts"]
        if left <= 0:
            pending["hash"] = ""
            form.add_error("code", _("Trop d'essais avec ce code : demandez un nouveau code."))
            context["ask_new_code"] = True
        else:
            form.add_error(
                "code",
                ngettext(
                    "Ce code ne convient pas. Vérifiez-le : il vous reste %(count)d essai.",
                    "Ce code ne convient pas. Vérifiez-le : il vous reste %(count)d essais.",
                    left,
                )
                % {"count": left},
            )
        request.session[key] = pending
        return render(request, "booking/code.html", context, status=400)

    request.session.pop(key, None)
    rate_limit_refund(identifier=phone, ip=ip)  # a right code does not count
    request.session[VERIFIED_KEY] = {
        "name": pending["name"],
        "phone": phone,
        "email": pending["email"],
        "until": time.time() + VERIFIED_SECONDS,
    }
    return None
