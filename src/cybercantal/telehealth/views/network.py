"""Setting up the teleconsultation network (/telesante/reseau/), for the Département's
telehealth team (perms.is_telehealth_staff): sites, their equipment, specialties and their
protocol, practitioners, assisting professionals and reference hospitals.

A site's coordinators also open its equipment page, to mark a device out of order or back in
service (they see a failure first); they cannot add devices. Everyone else is refused (403);
a coordinator does not learn whether another site's page exists (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError

from ..forms_network import (
    AssistantForm,
    EquipmentForm,
    HospitalForm,
    PractitionerForm,
    SiteForm,
    SpecialtyForm,
)
from ..models import Equipment
from ..perms import is_telehealth_staff
from ..selectors.network import (
    assistant_list,
    equipment_sites,
    hospital_list,
    network_site_get,
    network_site_list,
    places_for_new_site,
    practitioner_list,
    site_equipment,
    specialty_list,
)
from ..services.network import (
    assistant_create,
    assistant_update,
    equipment_add,
    equipment_set_in_service,
    hospital_save,
    may_set_equipment_state,
    practitioner_create,
    practitioner_update,
    site_create,
    site_update,
    specialty_save,
)


def _require_staff(request: HttpRequest) -> None:
    if not is_telehealth_staff(request.user):
        raise PermissionDenied(_("Réservé à l'équipe télémédecine du Département."))


def _found(obj, message: str):
    if obj is None:
        raise Http404(message)
    return obj


def _edited(queryset, pk: int | None, message: str):
    """The object being edited (404 with `message` if not in queryset), None when creating."""
    if pk is None:
        return None
    return _found(queryset.filter(pk=pk).first(), message)


def _form_view(
    request: HttpRequest,
    form_class: type[forms.Form] | None,
    form_kwargs: dict,
    *,
    save: Callable[[dict], Any],
    done: Callable[[Any], tuple[str, str]],
    template: str,
    context: dict,
) -> HttpResponse:
    """The flow of every set-up form. The form (none when form_class is None: a read-only page)
    is bound on POST; once valid, save(cleaned_data) calls the service and done(saved) gives
    the success message and where to go next. A refusal of the service shows on the form, and
    a POST that comes back to the page (invalid or refused) answers 400."""
    form = form_class(request.POST or None, **form_kwargs) if form_class is not None else None
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            message, url = done(saved)
            messages.success(request, message)
            return redirect(url)
    return render(
        request,
        f"telehealth/network/{template}",
        {"form": form, **context},
        status=400 if request.method == "POST" else 200,
    )


# --- Sites ---------------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def network_sites(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request, "telehealth/network/sites.html", {"sites": network_site_list(actor=request.user)}
    )


def _site_values(data: dict) -> dict:
    return {
        "kind": data["kind"],
        "hospital": data["reference_hospital"],
        "distance_km": data["hospital_distance_km"],
        "travel_minutes": data["hospital_travel_minutes"],
        "connection": data["connection"],
        "coordinators": data["coordinators"],
        "opened_on": data["opened_on"],
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_site_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    places = places_for_new_site(actor=request.user)
    return _form_view(
        request,
        SiteForm,
        {"places": places},
        save=lambda data: site_create(
            actor=request.user, place=data["place"], **_site_values(data)
        ),
        done=lambda site: (
            _("Le site « %(name)s » est créé. Ajoutez maintenant ses appareils.")
            % {"name": site.place.name},
            reverse("telehealth:network_site_equipment", args=[site.pk]),
        ),
        template="site_form.html",
        context={"site": None, "has_places": places.exists()},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_site_edit(request: HttpRequest, site_pk: int) -> HttpResponse:
    _require_staff(request)
    site = _found(
        network_site_get(actor=request.user, site_id=site_pk),
        _("Aucun site ne porte ce numéro."),
    )
    return _form_view(
        request,
        SiteForm,
        {"site": site},
        save=lambda data: site_update(
            actor=request.user,
            site=site,
            is_active=data["is_active"],
            closed_on=data["closed_on"],
            **_site_values(data),
        ),
        done=lambda _saved: (
            _("Le site « %(name)s » est enregistré.") % {"name": site.place.name},
            reverse("telehealth:network_sites"),
        ),
        template="site_form.html",
        context={"site": site},
    )


# --- Equipment -----------------------------------------------------------------------------------


def _equipment_site(request: HttpRequest, site_pk: int):
    sites = equipment_sites(actor=request.user)
    site = sites.filter(pk=site_pk).first()
    if site is None:
        if not sites.exists():
            raise PermissionDenied(
                _(
                    "Les appareils d'un site sont gérés par ses coordinateurs et par l'équipe "
                    "télémédecine du Département."
                )
            )
        raise Http404(_("Aucun de vos sites ne porte ce numéro."))
    return site


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_site_equipment(request: HttpRequest, site_pk: int) -> HttpResponse:
    site = _equipment_site(request, site_pk)
    is_staff = is_telehealth_staff(request.user)
    if request.method == "POST" and not is_staff:
        raise PermissionDenied(_("Seule l'équipe télémédecine ajoute des appareils."))
    return _form_view(
        request,
        EquipmentForm if is_staff else None,
        {},
        save=lambda data: equipment_add(actor=request.user, site=site, **data),
        done=lambda equipment: (
            _("Appareil ajouté : %(kind)s.") % {"kind": equipment.get_kind_display()},
            reverse("telehealth:network_site_equipment", args=[site.pk]),
        ),
        template="equipment.html",
        context={"site": site, "equipment": site_equipment(site=site), "is_staff": is_staff},
    )


@never_cache
@login_required
@require_POST
def network_equipment_state(request: HttpRequest, equipment_pk: int) -> HttpResponse:
    """Mark a device out of order ("in_service=0") or back in service ("in_service=1")."""
    sites = equipment_sites(actor=request.user)
    if not sites.exists():
        raise PermissionDenied(_("Vous ne gérez les appareils d'aucun site."))
    equipment = (
        Equipment.objects.filter(site__in=sites, pk=equipment_pk).select_related("site").first()
    )
    if equipment is None or not may_set_equipment_state(request.user, equipment):
        raise Http404(_("Aucun appareil de vos sites ne porte ce numéro."))
    value = request.POST.get("in_service")
    if value not in ("0", "1"):
        messages.error(request, _("Choisissez « en panne » ou « remis en service »."))
        return redirect(reverse("telehealth:network_site_equipment", args=[equipment.site_id]))
    equipment = equipment_set_in_service(
        actor=request.user, equipment=equipment, in_service=value == "1"
    )
    if equipment.in_service:
        text = _("%(kind)s est remis en service.")
    else:
        text = _(
            "%(kind)s est noté en panne : les spécialités qui en ont besoin ne se réservent "
            "plus sur ce site."
        )
    messages.success(request, text % {"kind": equipment.get_kind_display()})
    return redirect(reverse("telehealth:network_site_equipment", args=[equipment.site_id]))


# --- Specialties ---------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def network_specialties(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request,
        "telehealth/network/specialties.html",
        {"specialties": specialty_list(actor=request.user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_specialty_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_staff(request)
    specialty = _edited(
        specialty_list(actor=request.user), pk, _("Aucune spécialité ne porte ce numéro.")
    )
    return _form_view(
        request,
        SpecialtyForm,
        {"specialty": specialty},
        save=lambda data: specialty_save(actor=request.user, specialty=specialty, **data),
        done=lambda saved: (
            _("La spécialité « %(label)s » est enregistrée.") % {"label": saved},
            reverse("telehealth:network_specialties"),
        ),
        template="specialty_form.html",
        context={"specialty": specialty},
    )


# --- Practitioners -------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def network_practitioners(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request,
        "telehealth/network/practitioners.html",
        {"practitioners": practitioner_list(actor=request.user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_practitioner_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_staff(request)
    practitioner = _edited(
        practitioner_list(actor=request.user), pk, _("Aucun médecin ne porte ce numéro.")
    )

    def save(data: dict):
        if practitioner is None:
            return practitioner_create(
                actor=request.user,
                user=data["user"],
                kind=data["kind"],
                rpps=data["rpps"],
                specialties=data["specialties"],
                organisation=data["organisation"],
            )
        return practitioner_update(
            actor=request.user,
            practitioner=practitioner,
            kind=data["kind"],
            specialties=data["specialties"],
            is_active=data["is_active"],
        )

    return _form_view(
        request,
        PractitionerForm,
        {"practitioner": practitioner},
        save=save,
        done=lambda saved: (
            _("%(name)s est enregistré(e) comme médecin.") % {"name": saved},
            reverse("telehealth:network_practitioners"),
        ),
        template="practitioner_form.html",
        context={"practitioner": practitioner},
    )


# --- Assisting professionals ---------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def network_assistants(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request,
        "telehealth/network/assistants.html",
        {"assistants": assistant_list(actor=request.user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_assistant_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_staff(request)
    assistant = _edited(
        assistant_list(actor=request.user),
        pk,
        _("Aucun professionnel assistant ne porte ce numéro."),
    )

    def save(data: dict):
        if assistant is None:
            return assistant_create(
                actor=request.user, user=data["user"], kind=data["kind"], sites=data["sites"]
            )
        return assistant_update(
            actor=request.user,
            assistant=assistant,
            kind=data["kind"],
            sites=data["sites"],
            is_active=data["is_active"],
        )

    return _form_view(
        request,
        AssistantForm,
        {"assistant": assistant},
        save=save,
        done=lambda saved: (
            _("%(name)s est enregistré(e) comme professionnel assistant.") % {"name": saved},
            reverse("telehealth:network_assistants"),
        ),
        template="assistant_form.html",
        context={"assistant": assistant},
    )


# --- Reference hospitals -------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def network_hospitals(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(
        request,
        "telehealth/network/hospitals.html",
        {"hospitals": hospital_list(actor=request.user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def network_hospital_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_staff(request)
    hospital = _edited(
        hospital_list(actor=request.user), pk, _("Aucun hôpital de référence ne porte ce numéro.")
    )
    return _form_view(
        request,
        HospitalForm,
        {"hospital": hospital},
        save=lambda data: hospital_save(actor=request.user, hospital=hospital, **data),
        done=lambda saved: (
            _("L'hôpital « %(name)s » est enregistré.") % {"name": saved},
            reverse("telehealth:network_hospitals"),
        ),
        template="hospital_form.html",
        context={"hospital": hospital},
    )


urlpatterns = [
    path("reseau/", network_sites, name="network_sites"),
    path("reseau/sites/nouveau/", network_site_create, name="network_site_create"),
    path("reseau/sites/<int:site_pk>/", network_site_edit, name="network_site_edit"),
    path(
        "reseau/sites/<int:site_pk>/appareils/",
        network_site_equipment,
        name="network_site_equipment",
    ),
    path(
        "reseau/appareils/<int:equipment_pk>/etat/",
        network_equipment_state,
        name="network_equipment_state",
    ),
    path("reseau/specialites/", network_specialties, name="network_specialties"),
    path("reseau/specialites/nouvelle/", network_specialty_form, name="network_specialty_create"),
    path("reseau/specialites/<int:pk>/", network_specialty_form, name="network_specialty_edit"),
    path("reseau/medecins/", network_practitioners, name="network_practitioners"),
    path("reseau/medecins/nouveau/", network_practitioner_form, name="network_practitioner_create"),
    path("reseau/medecins/<int:pk>/", network_practitioner_form, name="network_practitioner_edit"),
    path("reseau/assistants/", network_assistants, name="network_assistants"),
    path("reseau/assistants/nouveau/", network_assistant_form, name="network_assistant_create"),
    path("reseau/assistants/<int:pk>/", network_assistant_form, name="network_assistant_edit"),
    path("reseau/hopitaux/", network_hospitals, name="network_hospitals"),
    path("reseau/hopitaux/nouveau/", network_hospital_form, name="network_hospital_create"),
    path("reseau/hopitaux/<int:pk>/", network_hospital_form, name="network_hospital_edit"),
]
