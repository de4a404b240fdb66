"""The members of a place (/tiers-lieux/gestion/<pk>/membres/): the list with a search, and
one member's sheet — their passes here and the credit ledger, arrivals and bookings here, and
their profile (where they came from, usual trip), which the manager may record at the desk."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..forms_members import MemberListSearchForm, MemberProfileForm
from ..selectors.members import place_member_page, place_member_sheet
from ..services.profiles import member_profile_update
from .manage_common import managed_place, member_name, submit


@never_cache
@login_required
@require_safe
def manage_members(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    form = MemberListSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = place_member_page(
        actor=request.user, tiers_lieu=tiers_lieu, query=query, page=request.GET.get("page")
    )
    return render(
        request,
        "coworking/manage/members.html",
        {"tiers_lieu": tiers_lieu, "form": form, "page": page, "query": query},
        status=200 if form.is_valid() or not request.GET else 400,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_member(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    sheet = place_member_sheet(actor=request.user, tiers_lieu=tiers_lieu, member_id=member_id)
    if sheet is None:
        raise Http404(_("Cette personne n'a ni pass ni réservation dans ce tiers-lieu."))
    form = MemberProfileForm.for_profile(sheet.profile, request.POST or None)

    def record(data: dict) -> str:
        member_profile_update(
            actor=request.user, member=sheet.member, tiers_lieu=tiers_lieu, **data
        )
        return _("Profil de %(name)s enregistré.") % {"name": member_name(sheet.member)}

    url = reverse("coworking:manage_member", args=[tiers_lieu.pk, member_id])
    response, status = submit(request, form, record, then=url)
    if response is not None:
        return response
    return render(
        request,
        "coworking/manage/member.html",
        {
            "tiers_lieu": tiers_lieu,
            "sheet": sheet,
            "name": member_name(sheet.member),
            "form": form,
        },
        status=status,
    )


urlpatterns = [
    path("gestion/<int:pk>/membres/", manage_members, name="manage_members"),
    path("gestion/<int:pk>/membres/<int:member_id>/", manage_member, name="manage_member"),
]
