"""Confirming a mobile number by a 6-digit SMS code, for someone without an account — the public
way for any page (booking's own, a module's registration page) to do it.

A flow keeps its request in the session under a key of its own (two flows in one browser must
not overwrite each other) and goes:

1. `send_code(request, key=…, name=…, phone=…, email=…, query=…)` texts a code and keeps its
   hash (never the code) with the person and `query` (what the code will confirm, as the flow
   wants to read it back). It returns a `RateLimitExceeded` to answer with
   `too_many_response`, or None once sent; it raises ValueError (French) for a number that
   cannot receive SMS.
2. The code page reads `request.session.get(key)` and, on a valid `CodeVerifyForm`, calls
   `check_code(…)`: None when the code is right (the request leaves the session and the phone
   counts as confirmed for VERIFIED_SECONDS: `verified_contact`), else the page
   booking/code.html again with the reason, or the 429 page. `resend_code` is the page's
   "Recevoir un nouveau code".
3. After a booking made this way, `remember_booking` lets this browser see its confirmation page
   (`is_remembered_booking`): no account proves that the booking is theirs, the session does.

Guarantees: a code is valid settings.ONE_TIME_CODE_MINUTES minutes and for
settings.ONE_TIME_CODE_MAX_ATTEMPTS wrong tries, after which a new code is needed; each code
sent and each code tried counts against the number and the address (accounts.ratelimit, the
counters of the login by SMS code), a right code and an SMS that could not be sent being given
back: a paid SMS must not be triggered at will, and 10^6 codes must not be tried."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
import time
from typing import TypedDict

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

from .forms import CodeVerifyForm
from .models import Booking
from .views._common import RECENT_MAX, time_text

__all__ = [
    "CODE_MESSAGES",
    "VERIFIED_SECONDS",
    "PendingCode",
    "VerifiedContact",
    "check_code",
    "forget_verified_contact",
    "is_remembered_booking",
    "remember_booking",
    "resend_code",
    "send_code",
    "too_many_response",
    "verified_contact",
]

# Session keys shared by every flow (their names predate this module: sessions in progress
# keep working across a deployment).
VERIFIED_KEY = "booking_verified_contact"  # a phone confirmed by a code, for a short while
RECENT_KEY = "booking_recent"  # references booked from this browser (confirmation page)
VERIFIED_SECONDS = 30 * 60
CODE_SALT = "cybercantal.booking.phone-code"

# What the SMS says the code is for: `purpose` of send_code and resend_code.
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


class PendingCode(TypedDict):
    """A flow's request in the session, under its key, while the code is awaited."""

    name: str
    phone: str  # E.164, as the person form cleaned it
    email: str
    query: str  # what the code confirms, for the flow to read back
    nonce: str
    hash: str  # "" once too many wrong codes were tried
    expires: float  # time.time()
    attempts: int


class VerifiedContact(TypedDict):
    """A phone confirmed by a code a moment ago (templates read `verified.name`…)."""

    name: str
    phone: str
    email: str
    until: float  # time.time()


def verified_contact(request: HttpRequest) -> VerifiedContact | None:
    """The person whose phone this browser confirmed less than VERIFIED_SECONDS ago, if any:
    they may book again in one click."""
    contact = request.session.get(VERIFIED_KEY)
    if contact and contact.get("until", 0) > time.time():
        return contact
    request.session.pop(VERIFIED_KEY, None)
    return None


def forget_verified_contact(request: HttpRequest) -> None:
    """ "Pour une autre personne": the next booking asks for a name and a code again."""
    request.session.pop(VERIFIED_KEY, None)


def too_many_response(request: HttpRequest, exceeded: RateLimitExceeded) -> HttpResponse:
    """The 429 page: when codes may be asked or tried again (with Retry-After)."""
    minutes = max(1, math.ceil(exceeded.retry_after_seconds / 60))
    retry_at = timezone.now() + dt.timedelta(seconds=exceeded.retry_after_seconds)
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


def send_code(
    request: HttpRequest,
    *,
    key: str,
    name: str,
    phone: str,
    email: str,
    query: str,
    purpose: str = "booking",
) -> RateLimitExceeded | None:
    """Text a new code to `phone` and keep the request (PendingCode) in the session under
    `key`, replacing any earlier one. Returns the rate-limit refusal, or None once sent.
    Raises ValueError (French) when the number cannot receive SMS: nothing is kept, nothing
    counted."""
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
    request.session[key] = PendingCode(
        name=name,
        phone=phone,
        email=email,
        query=query,
        nonce=nonce,
        hash=_code_hash(nonce=nonce, phone=phone, code=code),
        expires=time.time() + minutes * 60,
        attempts=0,
    )
    return None


def _notify_code(
    *, name: str, phone: str, code: str, nonce: str, minutes: int, purpose: str
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


def resend_code(
    request: HttpRequest,
    *,
    key: str,
    pending: PendingCode,
    purpose: str,
    back_url: str,
    code_url: str,
) -> HttpResponse:
    """ "Recevoir un nouveau code": the same request, a new code; back to `code_url` with a
    message, to `back_url` when the number cannot receive SMS, or the 429 page."""
    try:
        exceeded = send_code(
            request,
            key=key,
            name=pending["name"],
            phone=pending["phone"],
            email=pending["email"],
            query=pending["query"],
            purpose=purpose,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(back_url)
    if exceeded:
        return too_many_response(request, exceeded)
    messages.info(request, _("Un nouveau code vient de vous être envoyé par SMS."))
    return redirect(code_url)


def check_code(
    request: HttpRequest,
    *,
    key: str,
    pending: PendingCode,
    form: CodeVerifyForm,
    context: dict,
) -> HttpResponse | None:
    """Check the code typed in the (valid) `form` against the request under `key`.

    None when it is right: the request leaves the session and the phone counts as confirmed
    (verified_contact). Otherwise booking/code.html rendered with `context` and the reason
    (400: wrong, expired, too many tries — `ask_new_code` is then set), or the 429 page."""
    phone, ip = pending["phone"], client_ip(request)
    if exceeded := rate_limit_hit(identifier=phone, ip=ip, action="booking_code_check"):
        return too_many_response(request, exceeded)
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
    request.session[VERIFIED_KEY] = VerifiedContact(
        name=pending["name"],
        phone=phone,
        email=pending["email"],
        until=time.time() + VERIFIED_SECONDS,
    )
    return None


def remember_booking(request: HttpRequest, booking: Booking) -> None:
    """Remember that this browser made `booking` (the last RECENT_MAX, newest first)."""
    recent = [r for r in request.session.get(RECENT_KEY, []) if r != booking.reference]
    request.session[RECENT_KEY] = ([booking.reference, *recent])[:RECENT_MAX]


def is_remembered_booking(request: HttpRequest, reference: str) -> bool:
    """Whether this browser made the booking `reference` (remember_booking)."""
    return reference in request.session.get(RECENT_KEY, [])
