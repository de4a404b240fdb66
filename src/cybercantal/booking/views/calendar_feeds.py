"""Calendar feeds: "Mon agenda sur mon téléphone" (one's own bookings) and a resource's
agenda for its agents; creating one shows its secret address once; revoking. The feeds
themselves are served by booking.feeds."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import ical
from ..errors import BookingError, BookingForbidden
from ..forms import (
    CalendarFeedForm,
    ResourceFeedForm,
)
from ..models import CalendarFeedToken
from ._common import _agent_resources, _require_agent, _url, when_text


def _decorate_feed(feed: CalendarFeedToken) -> CalendarFeedToken:
    feed.created_label = when_text(feed.created_at)
    feed.last_used_label = when_text(feed.last_used_at) if feed.last_used_at else ""
    return feed


def _active_feeds(user, *, resources: bool) -> list[CalendarFeedToken]:
    feeds = ical.calendar_feed_list(actor=user).filter(
        revoked_at__isnull=True, resource__isnull=not resources
    )
    return [_decorate_feed(f) for f in feeds]


def _render_feed_created(request: HttpRequest, feed: CalendarFeedToken, raw: str) -> HttpResponse:
    """The new feed's secret address, shown this once (never stored, never in a redirect)."""
    url = ical.absolute_url(ical.calendar_feed_path(raw))
    webcal = "webcal://" + url.split("://", 1)[-1]
    response = render(
        request,
        "booking/feed_created.html",
        {
            "feed": _decorate_feed(feed),
            "feed_url": url,
            "webcal_url": webcal,
            "back_url": (
                _url("booking:agenda", {"cible": f"ressource-{feed.resource_id}"})
                if feed.resource_id
                else reverse("booking:my_bookings") + "#agenda-telephone"
            ),
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_feed_create(request: HttpRequest) -> HttpResponse:
    """A new personal feed: the person's own bookings, for their phone's calendar. A GET (back
    from the login page) leads to the form on "Mes réservations"."""
    if request.method == "GET":
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    form = CalendarFeedForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("name", []):
            messages.error(request, error)
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    try:
        feed, raw = ical.calendar_feed_create(actor=request.user, name=form.cleaned_data["name"])
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("booking:my_bookings") + "#agenda-telephone")
    return _render_feed_created(request, feed, raw)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agenda_feed_create(request: HttpRequest) -> HttpResponse:
    """A new feed of a resource the agent manages (403 for anyone else). A GET leads to the
    form on the agenda page."""
    resources = _require_agent(request)
    if request.method == "GET":
        return redirect(reverse("booking:agenda") + "#titre-agendas-en-ligne")
    raw_id = request.POST.get("resource", "")
    if raw_id.isdigit() and not any(r.pk == int(raw_id) for r in resources):
        raise PermissionDenied(_("Vous ne gérez pas cette ressource."))
    form = ResourceFeedForm(request.POST, resources=_agent_resources(request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("booking:agenda")
    try:
        feed, raw = ical.calendar_feed_create(
            actor=request.user,
            resource=form.cleaned_data["resource"],
            name=form.cleaned_data["name"],
        )
    except BookingForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect("booking:agenda")
    return _render_feed_created(request, feed, raw)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke one of one's feeds, personal or of a resource (a confirmation step first);
    anyone else's answers 404."""
    feed = (
        ical.calendar_feed_list(actor=request.user)
        .filter(pk=feed_id, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        raise Http404(_("Cet agenda en ligne n'existe pas ou est déjà révoqué."))
    _decorate_feed(feed)
    back = (
        _url("booking:agenda", {"cible": f"ressource-{feed.resource_id}"})
        if feed.resource_id
        else reverse("booking:my_bookings") + "#agenda-telephone"
    )
    if request.method == "POST":
        try:
            ical.calendar_feed_revoke(actor=request.user, feed=feed)
        except BookingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("L'agenda « %(name)s » est révoqué : son adresse ne fonctionne plus.")
                % {"name": feed.name},
            )
        return redirect(back)
    return render(request, "booking/feed_revoke.html", {"feed": feed, "back": back})
