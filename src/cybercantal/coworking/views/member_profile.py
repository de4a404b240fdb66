"""The member's own profile in the network (/tiers-lieux/mon-profil/): where they lived when
they joined and their usual trip to work, which the network's figures use (newcomers,
commuting and CO₂ avoided) — always optional."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..forms_members import MemberProfileForm
from ..models import MemberProfile
from ..services.profiles import member_profile_update
from .manage_common import submit


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request: HttpRequest) -> HttpResponse:
    profile = MemberProfile.objects.filter(user=request.user).first()
    form = MemberProfileForm.for_profile(profile, request.POST or None)

    def record(data: dict) -> str:
        member_profile_update(actor=request.user, member=request.user, **data)
        return _("Votre profil est enregistré. Merci !")

    response, status = submit(request, form, record, then=reverse("coworking:my_profile"))
    if response is not None:
        return response
    return render(request, "coworking/member/profile.html", {"form": form}, status=status)


urlpatterns = [path("mon-profil/", my_profile, name="my_profile")]
