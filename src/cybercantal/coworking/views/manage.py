"""The managers' pages of a tiers-lieu (mounted under /tiers-lieux/gestion/): their places,
today at a place and check-ins (manage_today), the tablet at the entrance (manage_tablet),
passes (manage_passes) and invoices (manage_invoices). Every page is scoped to the places the
person manages: another place's pages answer 404; someone who manages no place gets 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ..selectors.today import managed_places
from . import (
    manage_hours,
    manage_invoices,
    manage_members,
    manage_offers,
    manage_offices,
    manage_passes,
    manage_rooms,
    manage_spaces,
    manage_tablet,
    manage_today,
)


@never_cache
@login_required
@require_safe
def manage_home(request: HttpRequest) -> HttpResponse:
    places = list(managed_places(actor=request.user))
    if not places:
        raise PermissionDenied
    return render(request, "coworking/manage/home.html", {"places": places})


urlpatterns = [
    path("gestion/", manage_home, name="manage_home"),
    *manage_today.urlpatterns,
    *manage_tablet.urlpatterns,
    *manage_members.urlpatterns,
    *manage_passes.urlpatterns,
    *manage_invoices.urlpatterns,
    *manage_hours.urlpatterns,
    *manage_offers.urlpatterns,
    *manage_spaces.urlpatterns,
    *manage_rooms.urlpatterns,
    *manage_offices.urlpatterns,
]
