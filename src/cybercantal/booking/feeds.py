"""Calendar feeds, single-booking .ics downloads and the waiting list's offer page.

The UI's booking/urls.py includes `feed_urlpatterns` (below). The feed and the offer page are
reached through a secret in the address, not a session: a calendar application cannot log in,
and the person answering an offer may not have an account. Both answer 404 to an unknown or
revoked secret, and tell search engines and referrers nothing.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import ical, waitlist
from .errors import BookingError
from .models import WaitingListEntry
from .selectors import booking_get


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _ics_response(body: bytes, *, filename: str, inline: bool) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return _private(response)


@require_GET
def feed_ics(request, token: str) -> HttpResponse:
    """GET /reservations/agenda/<token>.ics: the bookings of a feed, as text/calendar."""
    feed = ical.calendar_feed_authenticate(token)
    if feed is None:
        raise Http404
    return _ics_response(ical.calendar_feed_render(feed), filename="agenda.ics", inline=True)


@login_required
@require_GET
def booking_ics(request, booking_id: int) -> HttpResponse:
    """One booking as a .ics file, for its holder or the agents of its resources."""
    # booking_get: the holder or the agents of its resources, less what a module hides.
    booking = booking_get(actor=request.user, booking_id=booking_id)
    if booking is None:
        raise Http404  # the same answer whether it exists or not
    audience = ical.PERSON if booking.user_id == request.user.pk else ical.AGENT
    return _ics_response(
        ical.booking_ics(booking, audience=audience),
        filename=f"rendez-vous-{booking.reference}.ics",
        inline=False,
    )


@require_http_methods(["GET", "POST"])
def waitlist_offer(request, token: str) -> HttpResponse:
    """The page behind the link of a waiting-list offer: the slot, and three buttons (take it,
    leave it, leave the list). A GET changes nothing: link previews in messaging apps open links by
    themselves."""
    entry = waitlist.waitlist_offer_get(token)
    if entry is None:
        raise Http404
    context = {"entry": entry, "hold": entry.hold_booking, "error": "", "done": ""}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                context["booking"] = waitlist.waitlist_accept(token=token)
                context["done"] = "accepted"
            elif action in ("decline", "leave"):
                waitlist.waitlist_decline(token=token, leave=action == "leave")
                context["done"] = "left" if action == "leave" else "declined"
            else:
                context["error"] = _(
                    "Choisissez : prendre ce créneau, le laisser, ou quitter la liste d'attente."
                )
                status = 400
        except BookingError as exc:
            context["error"] = exc.message
            status = exc.status_code
        entry.refresh_from_db()
    context["is_open"] = (
        entry.status == WaitingListEntry.Status.OFFERED
        and entry.hold_expires_at is not None
        and entry.hold_expires_at > timezone.now()
    )
    return _private(render(request, "booking/waitlist_offer.html", context, status=status))


feed_urlpatterns = [
    path("agenda/<str:token>.ics", feed_ics, name="feed_ics"),
    path("<int:booking_id>/agenda.ics", booking_ics, name="booking_ics"),
    path("liste-attente/<str:token>/", waitlist_offer, name="waitlist_offer"),
]
