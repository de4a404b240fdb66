"""The telehealth home (/telesante/): where each person starts, by what they do."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from ..perms import is_telehealth_staff, sites_for


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "sites": sites_for(user).select_related("place__commune"),
        "is_practitioner": hasattr(user, "telehealth_practitioner"),
        "is_staff": is_telehealth_staff(user),
    }
    return render(request, "telehealth/home.html", context)


urlpatterns = [path("", home, name="home")]
