"""The priority zones (/telesante/reseau/zones-prioritaires/), for the Département's
telehealth team (perms.is_telehealth_staff): the communes in zone today, the history of the
zonings, and the form that records a new zoning from a date (a list typed or pasted, or read
from the ARS's CSV file and checked before saving). Everyone else is refused (403)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError

from ..forms_zoning import ZoningForm, ZoningImportForm
from ..perms import is_telehealth_staff
from ..selectors.zoning import (
    communes_from_text,
    latest_zoning_start,
    territory_communes,
    zone_communes_on,
    zoning_history,
    zoning_text,
)
from ..services.zoning import zoning_save


def _fr_number(count: int) -> int:
    """The number ngettext should choose the form by: in French 0 takes the singular ("0
    sort"); without a catalogue for these strings ngettext would pick the plural."""
    return 1 if count <= 1 else count


def _require_staff(request: HttpRequest) -> None:
    if not is_telehealth_staff(request.user):
        raise PermissionDenied(_("Réservé à l'équipe télémédecine du Département."))


@never_cache
@login_required
@require_safe
def zoning_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    today = timezone.localdate()
    return render(
        request,
        "telehealth/zoning/list.html",
        {
            "today": today,
            "rows": list(zone_communes_on(actor=request.user, day=today)),
            "history": zoning_history(actor=request.user),
            "latest": latest_zoning_start(),
        },
    )


def _edit_page(request: HttpRequest, form: ZoningForm, import_form: ZoningImportForm, status=200):
    return render(
        request,
        "telehealth/zoning/edit.html",
        {
            "form": form,
            "import_form": import_form,
            "latest": latest_zoning_start(),
            "communes": territory_communes().order_by("name").only("name", "insee_code"),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def zoning_edit(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    if request.method == "GET":
        latest = latest_zoning_start()
        current = zone_communes_on(actor=request.user, day=latest) if latest else []
        form = ZoningForm(initial={"communes": zoning_text(current)})
        return _edit_page(request, form, ZoningImportForm())
    form = ZoningForm(request.POST)
    if form.is_valid():
        try:
            saved = zoning_save(
                actor=request.user,
                communes=form.cleaned_data["communes"],
                valid_from=form.cleaned_data["valid_from"],
                source=form.cleaned_data["source"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            day = date_format(saved.valid_from, "d/m/Y")
            messages.success(
                request,
                _("Zonage enregistré à partir du %(day)s : %(entered)s, %(left)s, %(stayed)s.")
                % {
                    "day": day,
                    "entered": ngettext(
                        "%(n)d commune entre",
                        "%(n)d communes entrent",
                        _fr_number(len(saved.entered)),
                    )
                    % {"n": len(saved.entered)},
                    "left": ngettext("%(n)d sort", "%(n)d sortent", _fr_number(len(saved.left)))
                    % {"n": len(saved.left)},
                    "stayed": ngettext("%(n)d reste", "%(n)d restent", _fr_number(saved.stayed))
                    % {"n": saved.stayed},
                },
            )
            return redirect(reverse("telehealth:zoning"))
    return _edit_page(request, form, ZoningImportForm(), status=400)


@never_cache
@login_required
@require_POST
def zoning_import(request: HttpRequest) -> HttpResponse:
    """Read the ARS's CSV file into the form, for the staff to check: nothing is saved here."""
    _require_staff(request)
    import_form = ZoningImportForm(request.POST, request.FILES)
    if not import_form.is_valid():
        return _edit_page(request, ZoningForm(), import_form, status=400)
    codes, elsewhere = import_form.cleaned_data["file"]
    resolution = communes_from_text("\n".join(codes))
    known = {commune.insee_code for commune in resolution.communes}
    unknown = [code for code in codes if code not in known]
    lines = [f"{c.name} ({c.insee_code})" for c in resolution.communes] + unknown
    text = ngettext(
        "%(n)d commune lue dans le fichier.", "%(n)d communes lues dans le fichier.", len(codes)
    ) % {"n": len(codes)}
    if elsewhere:
        text += " " + ngettext(
            "%(n)d ligne d'un autre département ignorée.",
            "%(n)d lignes d'autres départements ignorées.",
            elsewhere,
        ) % {"n": elsewhere}
    if unknown:
        text += " " + _(
            "Codes inconnus, laissés dans la liste pour que vous les corrigiez : %(codes)s."
        ) % {"codes": ", ".join(unknown)}
    text += " " + _("Vérifiez la liste, indiquez la date et la source, puis enregistrez.")
    messages.info(request, text)
    form = ZoningForm(initial={"communes": "\n".join(lines)})
    return _edit_page(request, form, ZoningImportForm())


urlpatterns = [
    path("reseau/zones-prioritaires/", zoning_list, name="zoning"),
    path("reseau/zones-prioritaires/modifier/", zoning_edit, name="zoning_edit"),
    path("reseau/zones-prioritaires/importer/", zoning_import, name="zoning_import"),
]
