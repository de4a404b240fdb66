"""Booking a meeting room by the hour at a tiers-lieu: a day among the next 14 (open, closed
or full), a duration within the room's policy, the number of people when the room takes
several bookings at once, then a free start time; booked for the member through the booking
engine (booking.services.booking_create: confirmed at once, or pending when the room requires
approval). The price is the hours at the place's hourly room price (Offer.Kind.ROOM_HOUR); the
place invoices it afterwards (services.rooms). The booking then lives in the booking engine's
"Mes réservations" (cancel, change, calendar feed).

Anyone may look at the free times; booking needs an account (login)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.booking.models import Booking, Resource
from cybercantal.booking.selectors import booking_list
from cybercantal.booking.services import booking_create

from ..forms_rooms import RoomForm
from ..selectors.network import tiers_lieu_get
from ..selectors.rooms import (
    duration_choices,
    place_room_get,
    room_days,
    room_hour_offer,
    room_price_cents,
)
from .network import day_text, next_days, price_text, time_text

ROOM_DAYS = 14


def duration_text(minutes: int) -> str:
    """ "1 h", "1 h 30", "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}


def _price_words(offer, minutes: int) -> str:
    if offer is None:
        return ""
    return _("%(price)s TTC") % {
        "price": price_text(room_price_cents(offer, dt.timedelta(minutes=minutes)))
    }


def _default_duration(durations: list[int]) -> int:
    return 60 if 60 in durations else durations[0]


def _day_state(room_day) -> str:
    if not room_day.is_open:
        return _("fermé")
    if room_day.too_late:
        return _("plus réservable")
    if not room_day.starts:
        return _("complet")
    return ngettext(
        "%(count)d horaire libre", "%(count)d horaires libres", len(room_day.starts)
    ) % {"count": len(room_day.starts)}


def _render(request, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "coworking/member/room.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def room(request: HttpRequest, tiers_lieu_id: int, room_id: int) -> HttpResponse:
    user = request.user
    tiers_lieu = tiers_lieu_get(actor=user, tiers_lieu_id=tiers_lieu_id)
    if tiers_lieu is None:
        raise Http404(_("Ce tiers-lieu n'existe pas ou n'est pas public."))
    space = place_room_get(actor=user, tiers_lieu=tiers_lieu, room_id=room_id)
    if space is None:
        raise Http404(_("Cette salle n'existe pas ici, ou ne se réserve pas en ligne."))
    if request.method == "POST" and not user.is_authenticated:
        return redirect_to_login(request.path)
    now = timezone.now()
    days = next_days(ROOM_DAYS)
    durations = duration_choices(space)
    query = request.POST if request.method == "POST" else request.GET
    offer = room_hour_offer(tiers_lieu=tiers_lieu)
    several = space.capacity > 1

    # The day and duration shown: those asked for when valid, else the first day with a free
    # time at the usual duration.
    raw = {
        "jour": (query.get("jour") or "").strip(),
        "duree": (query.get("duree") or "").strip() or str(_default_duration(durations)),
        "personnes": (query.get("personnes") or "").strip() or "1",
        "debut": (query.get("debut") or "").strip(),
    }
    probe = RoomForm(raw, room=space, days=days, durations=durations)
    probe.is_valid()
    minutes = probe.cleaned_data.get("duree") or _default_duration(durations)
    people = probe.cleaned_data.get("personnes") or 1
    units = people if several else 1
    calendar = room_days(space, days, duration=dt.timedelta(minutes=minutes), units=units, now=now)
    by_day = {d.day: d for d in calendar}
    if not raw["jour"]:
        raw["jour"] = next((d.day for d in calendar if d.starts), days[0]).isoformat()
    form = RoomForm(raw, room=space, days=days, durations=durations)
    valid = form.is_valid()
    chosen = form.cleaned_data.get("jour") or days[0]
    day = by_day[chosen]
    chosen_start = form.cleaned_data.get("debut")
    context = {
        "tiers_lieu": tiers_lieu,
        "place": tiers_lieu.place,
        "room": space,
        "form": form,
        "several": several,
        "people": people,
        "offer": offer,
        "hourly_price": price_text(offer.price_cents) if offer else "",
        "days": [
            {
                "value": d.day.isoformat(),
                "label": day_text(d.day).capitalize(),
                "state": _day_state(d),
                "selected": d.day == chosen,
            }
            for d in calendar
        ],
        "durations": [
            {
                "value": m,
                "label": duration_text(m),
                "price": _price_words(offer, m),
                "selected": m == minutes,
            }
            for m in durations
        ],
        "duration_label": duration_text(minutes),
        "price": _price_words(offer, minutes),
        "day": day,
        "day_label": day_text(chosen),
        "day_state": _day_state(day),
        "starts": [
            {
                "value": f"{s:%H:%M}",
                "label": _("de %(start)s à %(end)s")
                % {
                    "start": time_text(s.time()),
                    "end": time_text((s + dt.timedelta(minutes=minutes)).time()),
                },
                "checked": chosen_start is not None and s.time() == chosen_start,
            }
            for s in day.starts
        ],
        "minutes": minutes,
    }
    if request.method == "GET":
        return _render(request, context, status=200 if valid else 400)
    if valid and form.start() is None:
        form.add_error("debut", _("Choisissez une heure de début parmi celles proposées."))
        valid = False
    if not valid:
        return _render(request, context, status=400)
    start = form.start()
    try:
        booking = booking_create(
            actor=user,
            resources=[space],
            start=start,
            end=start + dt.timedelta(minutes=minutes),
            service=space.services.order_by("pk").first(),
            for_user=user,
            participants=people,
            now=now,
        )
    except BookingError as error:
        form.add_error(None, error.message)
        return _render(request, context, status=error.status_code)
    return redirect("coworking:room_booked", booking_id=booking.pk)


@never_cache
@login_required
@require_safe
def room_booked(request: HttpRequest, booking_id: int) -> HttpResponse:
    """The member's booking of a room, just made: where, when, its price, who invoices it."""
    user = request.user
    booking = (
        booking_list(actor=user, include_cancelled=True)
        .filter(pk=booking_id, user=user, allocations__resource__kind=Resource.Kind.ROOM)
        .first()
    )
    if booking is None:
        raise Http404(_("Cette réservation n'existe pas, ou vous ne pouvez pas la voir."))
    space = next(a.resource for a in booking.allocations.all() if a.resource.kind == "room")
    tiers_lieu = getattr(space.place, "tiers_lieu", None) if space.place_id else None
    offer = room_hour_offer(tiers_lieu=tiers_lieu) if tiers_lieu else None
    start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
    minutes = int((booking.end - booking.start).total_seconds() // 60)
    return render(
        request,
        "coworking/member/room_booked.html",
        {
            "booking": booking,
            "is_pending": booking.status == Booking.Status.PENDING,
            "is_cancelled": booking.status == Booking.Status.CANCELLED,
            "room": space,
            "tiers_lieu": tiers_lieu,
            "day_label": day_text(start.date()),
            "hours": _("de %(start)s à %(end)s")
            % {"start": time_text(start.time()), "end": time_text(end.time())},
            "duration_label": duration_text(minutes),
            "offer": offer,
            "hourly_price": price_text(offer.price_cents) if offer else "",
            "price": _price_words(offer, minutes),
        },
    )


urlpatterns = [
    path("<int:tiers_lieu_id>/salles/<int:room_id>/", room, name="room"),
    path("salles/reservations/<int:booking_id>/", room_booked, name="room_booked"),
]
