"""The telehealth home (/telesante/): where each person starts, by what they do — the next
sessions first, then what to do for each of their sites."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from ..perms import coordinated_site_ids, is_telehealth_staff, may_book_at, sites_for
from ..selectors.consultations import consultation_list
from ._audit import audit_consultations_listed

UPCOMING_ON_HOME = 5


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    is_staff = is_telehealth_staff(user)
    # Staff see every site in "Réseau"; here, only the sites a person works at.
    sites = [] if is_staff else list(sites_for(user).select_related("place__commune"))
    coordinated = coordinated_site_ids(user)
    upcoming = list(consultation_list(actor=user, upcoming=True)[:UPCOMING_ON_HOME])
    audit_consultations_listed(request, page="accueil", consultations=upcoming)
    context = {
        "sites": [
            {
                "site": site,
                "may_book": may_book_at(user, site),
                "coordinates": site.pk in coordinated,
            }
            for site in sites
        ],
        "upcoming": upcoming,
        "may_book": is_staff or any(may_book_at(user, site) for site in sites),
        "is_practitioner": hasattr(user, "telehealth_practitioner"),
        "is_staff": is_staff,
    }
    return render(request, "telehealth/home.html", context)


urlpatterns = [path("", home, name="home")]
