""" "Mes réservations": upcoming bookings, cancel (with a confirmation step) and reschedule;
the person's waiting-list entries (leave). Their calendar feeds: calendar_feeds."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .. import selectors, services, waitlist
from ..errors import BookingError
from ..forms import (
    CalendarFeedForm,
)
from ..models import Booking, WaitingListEntry
from ._common import (
    _deadline,
    _decorate,
    _decorate_entry,
    _iso,
    _slot_days,
    parse_moment,
    when_text,
)
from .calendar_feeds import _active_feeds

RESCHEDULE_WINDOW = dt.timedelta(days=14)
RESCHEDULE_SLOTS = 40
ACTIVE_ENTRY_STATUSES = (WaitingListEntry.Status.WAITING, WaitingListEntry.Status.OFFERED)


def _my_booking(request: HttpRequest, booking_id: int) -> Booking:
    booking = (
        selectors.my_bookings(actor=request.user)
        .prefetch_related("allocations__resource")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, est passée ou a été annulée."))
    return _decorate(booking)


@never_cache
@login_required
@require_safe
def my_bookings(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    bookings = [
        _decorate(b)
        for b in selectors.my_bookings(actor=request.user, now=now).prefetch_related(
            "allocations__resource"
        )
    ]
    for booking in bookings:
        deadline = _deadline(booking)
        booking.can_change_online = now <= deadline and booking.status in (
            Booking.Status.PENDING,
            Booking.Status.CONFIRMED,
        )
        booking.deadline_label = when_text(deadline)
    entries = [
        _decorate_entry(e)
        for e in waitlist.waitlist_list(actor=request.user).filter(
            user=request.user, status__in=ACTIVE_ENTRY_STATUSES
        )
    ]
    return render(
        request,
        "booking/my_bookings.html",
        {
            "bookings": bookings,
            "entries": entries,
            "feeds": _active_feeds(request.user, resources=False),
            "feed_form": CalendarFeedForm(),
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _my_booking(request, booking_id)
    deadline = _deadline(booking)
    context = {
        "booking": booking,
        "deadline_label": when_text(deadline),
        "too_late": timezone.now() > deadline,
        "error": "",
    }
    if request.method == "POST":
        try:
            services.booking_cancel(
                actor=request.user, booking=booking, reason=_("Annulée par la personne")
            )
        except BookingError as exc:
            context["error"] = exc.message
            return render(
                request, "booking/my_booking_cancel.html", context, status=exc.status_code
            )
        messages.success(
            request,
            _("Votre rendez-vous du %(when)s est annulé.") % {"when": booking.when_label},
        )
        return redirect("booking:my_bookings")
    return render(request, "booking/my_booking_cancel.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_booking_reschedule(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Another free slot of the same resource(s), same duration: pick one (a link), confirm
    (POST). The old slot is released only if the new one is taken (booking_reschedule)."""
    booking = _my_booking(request, booking_id)
    now = timezone.now()
    resources = [a.resource for a in booking.allocations.all()]
    duration = booking.end - booking.start
    deadline = _deadline(booking)
    base = reverse("booking:my_booking_reschedule", args=[booking.pk])
    context = {
        "booking": booking,
        "deadline_label": when_text(deadline),
        "too_late": now > deadline,
        "error": "",
        "first_url": base,
    }
    status = 200
    raw = request.POST.get("debut") or request.GET.get("debut")
    chosen = parse_moment(raw) if raw else None
    if raw and chosen is None:
        context["error"] = _("Ce créneau n'est pas lisible : choisissez-en un dans la liste.")
        status = 400

    if request.method == "POST" and chosen is not None:
        try:
            services.booking_reschedule(
                actor=request.user, booking=booking, start=chosen, end=chosen + duration
            )
        except BookingError as exc:
            context["error"] = exc.message
            status = exc.status_code
            chosen = None
        else:
            messages.success(
                request,
                _("Votre rendez-vous est déplacé au %(when)s.") % {"when": when_text(chosen)},
            )
            return redirect("booking:my_bookings")

    if chosen is not None:
        # Second step: "move it there?"
        context.update({"chosen": _iso(chosen), "chosen_label": when_text(chosen)})
        return render(request, "booking/my_booking_reschedule.html", context, status=status)

    # First step: the free starts common to every resource of the booking.
    window_start = max(parse_moment(request.GET.get("apres")) or now, now)
    window_end = window_start + RESCHEDULE_WINDOW
    common: set[dt.datetime] | None = None
    for resource in resources:
        found = {
            s.start
            for s in selectors.availability(
                resource=resource, start=window_start, end=window_end, duration=duration
            )
        }
        common = found if common is None else common & found
    starts = sorted(common or ())[:RESCHEDULE_SLOTS]
    later = starts[-1] + dt.timedelta(minutes=1) if len(starts) >= RESCHEDULE_SLOTS else window_end
    context.update(
        {
            "days": _slot_days(starts, lambda m: f"{base}?{urlencode({'debut': _iso(m)})}"),
            "later_url": f"{base}?{urlencode({'apres': _iso(later)})}",
            "later_label": when_text(later),
            "is_later_page": window_start > now + dt.timedelta(minutes=1),
        }
    )
    return render(request, "booking/my_booking_reschedule.html", context, status=status)


# --- My waiting list ---------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_waitlist_leave(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Leave the waiting list (a confirmation step, then waitlist_leave): one's own entries
    only; anyone else's answers 404."""
    entry = (
        waitlist.waitlist_list(actor=request.user)
        .filter(pk=entry_id, user=request.user, status__in=ACTIVE_ENTRY_STATUSES)
        .first()
    )
    if entry is None:
        raise Http404(_("Cette inscription n'existe pas ou est terminée."))
    _decorate_entry(entry)
    context = {"entry": entry, "error": ""}
    if request.method == "POST":
        try:
            waitlist.waitlist_leave(actor=request.user, entry=entry)
        except BookingError as exc:
            context["error"] = exc.message
            return render(
                request, "booking/my_waitlist_leave.html", context, status=exc.status_code
            )
        messages.success(
            request,
            _("Vous n'êtes plus sur la liste d'attente : %(what)s.") % {"what": entry.what_label},
        )
        return redirect("booking:my_bookings")
    return render(request, "booking/my_waitlist_leave.html", context)
