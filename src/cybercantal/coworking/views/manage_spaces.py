"""The spaces of a place (/tiers-lieux/gestion/<pk>/espaces/): the list with today's hours,
creating a space (with its kind's booking policy and the place's hours), changing it, making it
bookable or not, deleting one never booked. The rules are the services' (services.spaces)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError
from cybercantal.booking.models import Resource

from ..forms_catalogue import SPACE_KIND_CHOICES, SpaceForm
from ..selectors.catalogue import manager_space_get, space_rows
from ..services.spaces import (
    space_create,
    space_deactivate,
    space_delete,
    space_reactivate,
    space_update,
)
from .manage_common import managed_place, submit
from .network import time_text


def _spaces_url(tiers_lieu) -> str:
    return reverse("coworking:manage_spaces", args=[tiers_lieu.pk])


def _space_or_404(request: HttpRequest, tiers_lieu, space_id: int) -> Resource:
    space = manager_space_get(actor=request.user, tiers_lieu=tiers_lieu, space_id=space_id)
    if space is None:
        raise Http404(_("Cet espace n'existe pas, ou il n'est pas dans ce lieu."))
    return space


def hours_text(hours) -> str:
    if not hours:
        return _("fermé")
    return ", ".join(
        _("%(opens)s – %(closes)s") % {"opens": time_text(s.time()), "closes": time_text(e.time())}
        for s, e in hours
    )


KIND_LABELS = dict(SPACE_KIND_CHOICES)


@never_cache
@login_required
@require_safe
def manage_spaces(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    rows = [
        {
            "space": row.space,
            "kind": KIND_LABELS.get(row.space.kind, row.space.get_kind_display()),
            "hours": hours_text(row.hours),
            "has_bookings": row.has_bookings,
        }
        for row in space_rows(actor=request.user, tiers_lieu=tiers_lieu)
    ]
    return render(
        request,
        "coworking/manage/spaces.html",
        {
            "tiers_lieu": tiers_lieu,
            "rows": rows,
            "kinds": SPACE_KIND_CHOICES,
            "has_hours": tiers_lieu.place.opening_periods.exists(),
        },
    )


def _form_page(request: HttpRequest, tiers_lieu, space: Resource | None) -> HttpResponse:
    form = SpaceForm(request.POST or None, space=space, kind=request.GET.get("type"))

    def save(data: dict) -> str:
        fields = form.service_fields()
        if space is None:
            created = space_create(actor=request.user, tiers_lieu=tiers_lieu, **fields)
            return _(
                "Espace « %(name)s » créé : il ouvre aux horaires du lieu et se réserve dès "
                "maintenant."
            ) % {"name": created.name}
        updated = space_update(actor=request.user, tiers_lieu=tiers_lieu, space=space, **fields)
        return _("Espace « %(name)s » enregistré.") % {"name": updated.name}

    done, status = submit(request, form, save, then=_spaces_url(tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/space_form.html",
        {
            "tiers_lieu": tiers_lieu,
            "form": form,
            "space": space,
            "has_hours": tiers_lieu.place.opening_periods.exists(),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def manage_space_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, managed_place(request, pk), None)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def manage_space_edit(request: HttpRequest, pk: int, space_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    return _form_page(request, tiers_lieu, _space_or_404(request, tiers_lieu, space_id))


def _set_bookable(request: HttpRequest, pk: int, space_id: int, *, bookable: bool):
    tiers_lieu = managed_place(request, pk)
    space = _space_or_404(request, tiers_lieu, space_id)
    service = space_reactivate if bookable else space_deactivate
    try:
        service(actor=request.user, tiers_lieu=tiers_lieu, space=space)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        text = (
            _("L'espace « %(name)s » est de nouveau réservable.")
            if bookable
            else _(
                "L'espace « %(name)s » n'est plus réservable. Les réservations déjà faites "
                "restent valables."
            )
        )
        messages.success(request, text % {"name": space.name})
    return redirect(_spaces_url(tiers_lieu))


@never_cache
@login_required
@require_POST
def manage_space_deactivate(request: HttpRequest, pk: int, space_id: int) -> HttpResponse:
    return _set_bookable(request, pk, space_id, bookable=False)


@never_cache
@login_required
@require_POST
def manage_space_reactivate(request: HttpRequest, pk: int, space_id: int) -> HttpResponse:
    return _set_bookable(request, pk, space_id, bookable=True)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def manage_space_delete(request: HttpRequest, pk: int, space_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    space = _space_or_404(request, tiers_lieu, space_id)
    has_bookings = space.allocations.exists()
    status, error = 200, ""
    if request.method == "POST":
        try:
            space_delete(actor=request.user, tiers_lieu=tiers_lieu, space=space)
        except BookingError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(
                request, _("L'espace « %(name)s » est supprimé.") % {"name": space.name}
            )
            return redirect(_spaces_url(tiers_lieu))
    return render(
        request,
        "coworking/manage/space_delete.html",
        {
            "tiers_lieu": tiers_lieu,
            "space": space,
            "kind": KIND_LABELS.get(space.kind, space.get_kind_display()),
            "has_bookings": has_bookings,
            "error": error,
        },
        status=status,
    )


urlpatterns = [
    path("gestion/<int:pk>/espaces/", manage_spaces, name="manage_spaces"),
    path("gestion/<int:pk>/espaces/nouveau/", manage_space_create, name="manage_space_create"),
    path(
        "gestion/<int:pk>/espaces/<int:space_id>/modifier/",
        manage_space_edit,
        name="manage_space_edit",
    ),
    path(
        "gestion/<int:pk>/espaces/<int:space_id>/rendre-non-reservable/",
        manage_space_deactivate,
        name="manage_space_deactivate",
    ),
    path(
        "gestion/<int:pk>/espaces/<int:space_id>/rendre-reservable/",
        manage_space_reactivate,
        name="manage_space_reactivate",
    ),
    path(
        "gestion/<int:pk>/espaces/<int:space_id>/supprimer/",
        manage_space_delete,
        name="manage_space_delete",
    ),
]
