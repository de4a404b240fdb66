"""A member's pages (an account is required): "Mes passes" (each pass, its credit in words,
its ledger, and the personal check-in card as a QR code), "Réserver un poste" at a tiers-lieu
(a day among the next 30, the whole day or half of it, a pass; paid through
services.credits.desk_book) and the page that confirms the booking.

A refusal of the services (a BookingError: pass of someone else, of another place, no credit
left, desk just taken…) is shown on the page in French, with nothing written."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.booking.selectors import booking_list

from ..invoicing.pdf import invoice_pdf
from ..models import DeskBooking, Offer, Pass
from ..selectors import available_half_days, member_passes, usable_passes
from ..selectors.network import (
    AFTERNOON,
    DESK_KINDS,
    FULL_DAY,
    MORNING,
    pass_ledger,
    space_calendar,
    space_list,
    tiers_lieu_get,
)
from ..selectors.payments import member_invoice_get
from ..services.credits import desk_book, half_days_for
from ..services.profiles import member_profile_ensure
from .network import day_text, half_days_text, next_days, time_text
from .payments import member_invoice_rows

BOOKING_DAYS = 30


def _period_label(key: str) -> str:
    return {FULL_DAY: _("Toute la journée"), MORNING: _("Le matin"), AFTERNOON: _("L'après-midi")}[
        key
    ]


def _credit_text(pass_account: Pass) -> str:
    if not pass_account.offer.half_days:
        return _("journées sans limite jusqu'à la fin de la validité")
    return half_days_text(max(0, pass_account.balance))


def _movement_text(half_days: int) -> str:
    sign = "+" if half_days > 0 else "−"
    return f"{sign}\u00a0{half_days_text(half_days)}"


def _qr_svg(code: str) -> str:
    """The check-in card as inline SVG, hidden from screen readers (the figure around it says
    what it is, and the code is also written out)."""
    svg = segno.make(code, error="m").svg_inline(scale=6, border=2, omitsize=False)
    return mark_safe(  # noqa: S308 — segno's own SVG, from our own random code
        svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    )


# --- "Mes passes" -----------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def my_passes(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    passes = list(member_passes(actor=user, member=user))
    ledger = pass_ledger(actor=user, passes=passes)
    profile = member_profile_ensure(user=user)
    shown = []
    for pass_account in passes:
        if pass_account.status == Pass.Status.CANCELLED:
            state = _("annulé")
        elif pass_account.status == Pass.Status.PENDING_PROOF:
            state = _("justificatif à vérifier par le tiers-lieu")
        elif pass_account.valid_until < today:
            state = _("expiré")
        elif pass_account.valid_from > today:
            state = _("pas encore commencé")
        else:
            state = _("actif")
        shown.append(
            {
                "pass": pass_account,
                "state": state,
                "is_usable": state == _("actif"),
                "valid": _("du %(start)s au %(end)s")
                % {
                    "start": day_text(pass_account.valid_from),
                    "end": day_text(pass_account.valid_until),
                },
                "credit": _credit_text(pass_account),
                "where": pass_account.offer.tiers_lieu.place.name
                if pass_account.offer.tiers_lieu_id
                else _("dans tous les tiers-lieux du réseau"),
                "consumed_on_arrival": pass_account.offer.consumed_on == Offer.ConsumedOn.CHECK_IN,
                "movements": [
                    {
                        "date": day_text(timezone.localdate(m.at)),
                        "reason": m.get_reason_display(),
                        "change": _movement_text(m.half_days),
                    }
                    for m in ledger.get(pass_account.pk, [])
                ],
            }
        )
    return render(
        request,
        "coworking/member/passes.html",
        {
            "passes": shown,
            "profile": profile,
            "qr_svg": _qr_svg(profile.checkin_code),
            "invoices": member_invoice_rows(user),
        },
    )


# --- "Réserver un poste" ----------------------------------------------------------------------


def _parse_day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _parse_int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _render_book(request, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, "coworking/member/book.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, tiers_lieu_id: int) -> HttpResponse:
    user = request.user
    tiers_lieu = tiers_lieu_get(actor=user, tiers_lieu_id=tiers_lieu_id)
    if tiers_lieu is None:
        raise Http404(_("Ce tiers-lieu n'existe pas ou n'est pas public."))
    query = request.POST if request.method == "POST" else request.GET
    pools = space_list(actor=user, places=[tiers_lieu.place], kinds=DESK_KINDS)
    context = {"tiers_lieu": tiers_lieu, "place": tiers_lieu.place, "pools": pools}
    if not pools:
        return _render_book(request, context)
    pool_id = _parse_int(query.get("espace"))
    pool = next((p for p in pools if p.pk == pool_id), pools[0])
    now = timezone.now()
    calendar = space_calendar(pool, next_days(BOOKING_DAYS), now=now)
    by_day = {c.day: c for c in calendar}
    errors: list[str] = []
    chosen = _parse_day(query.get("jour"))
    if query.get("jour") and chosen not in by_day:
        errors.append(
            _("Choisissez un jour parmi les %(count)d prochains.") % {"count": BOOKING_DAYS}
        )
        chosen = None
    if chosen is None:
        chosen = next((c.day for c in calendar if c.free), None)
    day = by_day.get(chosen)
    passes = list(usable_passes(member=user, tiers_lieu=tiers_lieu, day=chosen)) if day else []
    context.update(
        {
            "pool": pool,
            "days": [
                {
                    "value": c.day.isoformat(),
                    "label": day_text(c.day).capitalize(),
                    "state": _("fermé")
                    if not c.is_open
                    else (
                        _("complet")
                        if not c.free
                        else _("%(free)d poste(s) libre(s)") % {"free": c.free}
                    )
                    if c.periods
                    else _("plus réservable"),
                    "selected": c.day == chosen,
                }
                for c in calendar
            ],
            "day": day,
            "day_label": day_text(chosen) if chosen else "",
            "periods": [
                {
                    "key": p.key,
                    "label": _period_label(p.key),
                    "hours": _("de %(start)s à %(end)s")
                    % {"start": time_text(p.start.time()), "end": time_text(p.end.time())},
                    "free": p.free,
                    "cost": half_days_text(half_days_for(p.start, p.end)),
                    "checked": query.get("periode") == p.key,
                }
                for p in (day.periods if day else [])
            ],
            "passes": [
                {
                    "pass": p,
                    "credit": _credit_text(p),
                    "checked": str(p.pk) == query.get("pass") or len(passes) == 1,
                }
                for p in passes
            ],
            "errors": errors,
        }
    )
    if request.method == "GET" or errors:
        return _render_book(request, context, status=400 if errors else 200)
    return _confirm(request, context, pool=pool, day=day, query=query)


def _confirm(request, context: dict, *, pool, day, query) -> HttpResponse:
    user = request.user
    period = next((p for p in day.periods if p.key == query.get("periode")), None)
    pass_id = _parse_int(query.get("pass"))
    # Any of the member's passes: desk_book says why one cannot pay (expired, another place…).
    pass_account = (
        member_passes(actor=user, member=user).filter(pk=pass_id).first() if pass_id else None
    )
    errors = []
    if period is None:
        errors.append(_("Choisissez la journée, le matin ou l'après-midi."))
    if pass_account is None:
        errors.append(_("Choisissez un de vos passes pour payer ce poste."))
    if not errors:
        try:
            booking = desk_book(
                actor=user,
                member=user,
                pass_account=pass_account,
                resource=pool,
                start=period.start,
                end=period.end,
            )
        except BookingError as error:
            context["errors"] = [error.message]
            return _render_book(request, context, status=error.status_code)
        return redirect("coworking:booked", booking_id=booking.pk)
    context["errors"] = errors
    return _render_book(request, context, status=400)


@never_cache
@login_required
@require_safe
def booked(request: HttpRequest, booking_id: int) -> HttpResponse:
    user = request.user
    booking = (
        booking_list(actor=user, include_cancelled=True)
        .filter(pk=booking_id, user=user)
        .select_related("place__commune")
        .first()
    )
    desk = (
        DeskBooking.objects.select_related("pass_account__offer")
        .filter(booking=booking, pass_account__member=user)
        .first()
        if booking
        else None
    )
    if desk is None:
        raise Http404(_("Cette réservation n'existe pas, ou vous ne pouvez pas la voir."))
    start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
    pass_account = desk.pass_account
    left = available_half_days(pass_account, now=timezone.now())
    return render(
        request,
        "coworking/member/booked.html",
        {
            "booking": booking,
            "day_label": day_text(start.date()),
            "hours": _("de %(start)s à %(end)s")
            % {"start": time_text(start.time()), "end": time_text(end.time())},
            "pass": pass_account,
            "cost": half_days_text(desk.half_days),
            "on_arrival": pass_account.offer.consumed_on == Offer.ConsumedOn.CHECK_IN,
            "left": _("journées sans limite")
            if not pass_account.offer.half_days
            else half_days_text(max(0, left)),
            "passes_url": reverse("coworking:my_passes"),
        },
    )


@never_cache
@login_required
@require_safe
def my_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The member's invoice (or credit note) as PDF, printed as the managers print it; 404
    for an invoice billed to anyone else."""
    invoice = member_invoice_get(actor=request.user, invoice_id=invoice_id)
    if invoice is None:
        raise Http404(_("Cette facture n'existe pas, ou elle n'est pas à votre nom."))
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


urlpatterns = [
    path("mes-passes/", my_passes, name="my_passes"),
    path("mes-factures/<int:invoice_id>.pdf", my_invoice_pdf, name="my_invoice_pdf"),
    path("<int:tiers_lieu_id>/reserver/", book, name="book"),
    path("reservations/<int:booking_id>/", booked, name="booked"),
]
