"""The teleconsultation journey: booking (/telesante/reserver/: site, specialty, patient,
assisting professional, then a slot where all of them are free), the list of consultations,
a consultation's page, its checklist, its closing, its incidents and its cancellation.

A consultation the user may not see is a 404, as if it did not exist (perms.py); running the
session is for its participants and the site's coordinators (403 for staff, who only see).
Every page showing a consultation writes an audit row. Services refuse in French: the page
comes back with the form as it was filled and the status of the refusal (400, 403, 409)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking.errors import BookingConflict, BookingError
from cybercantal.core.audit import audit_log
from cybercantal.core.http import client_ip

from ..eligibility import assess_consultation
from ..forms_consultations import (
    BookingDetailsForm,
    BookingSelectionForm,
    ChecklistForm,
    CloseCorrectionForm,
    CloseForm,
    ConsultationFilterForm,
    IncidentForm,
    PatientForm,
)
from ..models import (
    AssistingProfessional,
    Consultation,
    Patient,
    Site,
    Specialty,
    TransportMode,
)
from ..perms import (
    consultations_for,
    may_cancel_consultation,
    may_correct_closing,
    may_run_session,
)
from ..selectors.consultations import (
    SLOT_LIMIT,
    SLOT_WINDOW_DAYS,
    bookable_sites,
    consultation_get,
    consultation_list,
    free_slots,
    last_connectivity_test,
    latest_connectivity_test,
    request_delay,
    site_assistants,
    site_patients,
    specialties_offered,
    video_base_url,
    video_link,
)
from ..services.consultations import (
    check_protocol,
    consultation_book,
    consultation_cancel,
    missing_devices,
    patient_create,
)
from ..services.sessions import (
    CLOSING_STATUSES,
    checklist_record,
    consultation_close,
    consultation_close_correct,
    incident_record,
)
from ._audit import audit_consultations_listed, audit_patients_shown
from ._errors import page_status

PATIENTS_SHOWN = 30
PAST_PER_PAGE = 25


# --- Helpers ------------------------------------------------------------------------------


def _optional_url(name: str, *args) -> str | None:
    """The address of a page written by another part of the app, or None while it does not
    exist: the link is simply not shown."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _consultation_or_404(request: HttpRequest, pk: int) -> Consultation:
    consultation = consultation_get(actor=request.user, consultation_id=pk)
    if consultation is None:
        raise Http404(_("Téléconsultation introuvable."))
    return consultation


def _runner_or_403(request: HttpRequest, consultation: Consultation) -> None:
    if not may_run_session(request.user, consultation):
        raise PermissionDenied(
            _("Seuls les participants et les coordinateurs du site mènent cette séance.")
        )


def _audit_view(request: HttpRequest, consultation: Consultation, page: str) -> None:
    audit_log(
        actor=request.user,
        action="telehealth.consultation_view",
        target=consultation,
        data={"page": page},
        ip_address=client_ip(request),
    )


def delay_label(delay: dt.timedelta) -> str:
    """ "5 heures", "3 jours": hours under two days, days beyond."""
    hours = int(delay.total_seconds() // 3600)
    if hours < 48:
        return ngettext("%(count)d heure", "%(count)d heures", hours) % {"count": hours}
    days = delay.days
    return ngettext("%(count)d jour", "%(count)d jours", days) % {"count": days}


def _checklist_state(consultation: Consultation, *, now: dt.datetime) -> dict:
    test = consultation.connectivity_test
    return {
        "consent_at": consultation.consent_recorded_at,
        "devices_at": consultation.devices_ready_at,
        "test": test,
        "complete": consultation.checklist_complete,
        "recent_test": latest_connectivity_test(consultation.site, now=now),
    }


def _session_context(request: HttpRequest, consultation: Consultation, *, now) -> dict:
    """What the consultation's pages share: the links to other pages, the checklist, the video
    room, the incidents, who may do what."""
    is_runner = may_run_session(request.user, consultation)
    return {
        "consultation": consultation,
        "now": now,
        "is_runner": is_runner,
        "is_planned": consultation.status == Consultation.Status.PLANNED,
        "is_held": consultation.status in (Consultation.Status.DONE, Consultation.Status.INCIDENT),
        "can_cancel": consultation.status == Consultation.Status.PLANNED
        and may_cancel_consultation(request.user, consultation),
        "checklist": _checklist_state(consultation, now=now),
        "video_url": video_link(consultation, actor=request.user),
        "video_configured": bool(video_base_url()),
        "incidents": list(consultation.incidents.all()),
        "delay": delay_label(request_delay(consultation)),
        "acts_url": _optional_url("telehealth:acts_code", consultation.pk),
        "can_correct_closing": consultation.status in CLOSING_STATUSES
        and may_correct_closing(request.user, consultation),
        "connectivity_url": _optional_url("telehealth:connectivity_test", consultation.site_id),
    }


# --- Booking ------------------------------------------------------------------------------


def _book_query(**choices) -> str:
    values = {name: obj.pk for name, obj in choices.items() if obj is not None}
    return f"{reverse('telehealth:consultation_book')}?{urlencode(values)}"


def _slot_days(slots) -> list[dict]:
    days: list[dict] = []
    for slot in slots:
        local = timezone.localtime(slot.start)
        if not days or days[-1]["date"] != local.date():
            days.append({"date": local.date(), "slots": []})
        days[-1]["slots"].append(
            {"value": slot.value, "time": local, "practitioner": slot.practitioner}
        )
    return days


def _slots_since(raw: str, *, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """The day from which to show slots ("a_partir_du", AAAA-MM-JJ), within the window."""
    raw = (raw or "").strip()
    if not raw:
        return None, ""
    today = timezone.localdate(now)
    last = today + dt.timedelta(days=SLOT_WINDOW_DAYS - 1)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not today <= day <= last:
        return None, _("Choisissez un jour entre le %(first)s et le %(last)s.") % {
            "first": today.strftime("%d/%m/%Y"),
            "last": last.strftime("%d/%m/%Y"),
        }
    return timezone.make_aware(dt.datetime.combine(day, dt.time())), ""


@dataclass
class _Journey:
    """Where the booking is at: what the person chose so far, checked against what they may
    choose, and whether the slots can be offered."""

    selection: BookingSelectionForm
    site: Site | None
    specialty: Specialty | None
    patient: Patient | None
    assistant: AssistingProfessional | None
    assistants: list
    missing: list[str]
    since: dt.datetime | None
    since_error: str

    @property
    def required_kind(self) -> str:
        return self.specialty.required_assistant if self.specialty else ""

    @property
    def ready(self) -> bool:
        return bool(
            self.site
            and self.specialty
            and not self.missing
            and self.patient
            and (self.assistant or not self.required_kind)
        )


# A step sent without a choice (no radio button ticked): what is missing.
UNCHOSEN = {
    "site": gettext_lazy("Choisissez un site dans la liste."),
    "specialty": gettext_lazy("Choisissez une spécialité dans la liste."),
    "patient": gettext_lazy("Choisissez un patient dans la liste, ou enregistrez-le."),
    "assistant": gettext_lazy("Choisissez le professionnel assistant."),
}


def _journey(data, *, sites, now: dt.datetime) -> _Journey:
    selection = BookingSelectionForm(data, sites=sites)
    selection.is_valid()  # invalid choices are reported; the valid ones are kept
    chosen = selection.cleaned_data
    site = chosen.get("site")
    specialty = chosen.get("specialty") if site else None
    patient = chosen.get("patient") if site else None
    assistant = chosen.get("assistant") if site else None
    step = data.get("etape", "")
    if step in UNCHOSEN and not chosen.get(step) and step not in selection.errors:
        selection.add_error(step, UNCHOSEN[step])
    since, since_error = _slots_since(data.get("a_partir_du", ""), now=now)
    kind = specialty.required_assistant if specialty else ""
    assistants = list(site_assistants(site=site, kind=kind)) if site else []
    if assistant is not None and assistant not in assistants:
        selection.add_error("assistant", _("Ce professionnel ne peut pas assister cette séance."))
        assistant = None
    if assistant is None and kind and len(assistants) == 1:
        assistant = assistants[0]  # nothing to choose
    return _Journey(
        selection=selection,
        site=site,
        specialty=specialty,
        patient=patient,
        assistant=assistant,
        assistants=assistants,
        missing=missing_devices(site, specialty) if site and specialty else [],
        since=since,
        since_error=since_error,
    )


def _create_patient(request: HttpRequest, journey: _Journey, form: PatientForm):
    """The new patient's form sent: a redirection to the next step, or the status to answer."""
    if journey.site is None:
        journey.selection.add_error("site", _("Choisissez d'abord le site."))
        return 400
    if not form.is_valid():
        return 400
    try:
        new = patient_create(actor=request.user, site=journey.site, **form.cleaned_data)
    except BookingError as error:
        form.add_error(None, error.message)
        return page_status(error)
    messages.success(request, _("Patient enregistré : %(name)s.") % {"name": new.display_name})
    return redirect(
        _book_query(
            site=journey.site,
            specialty=journey.specialty,
            patient=new,
            assistant=journey.assistant,
        )
    )


def _book_slot(request: HttpRequest, journey: _Journey, details, *, now: dt.datetime):
    """The booking sent: a redirection to the consultation, or the status to answer (409
    when the slot was taken meanwhile: the page then shows the next free slots)."""
    if journey.missing:
        # The protocol's own message, as the booking service would say it.
        try:
            check_protocol(
                site=journey.site, specialty=journey.specialty, assistant=journey.assistant
            )
        except BookingError as error:
            journey.selection.add_error(None, error.message)
        return 400
    if not journey.ready or details is None:
        journey.selection.add_error(
            None,
            _(
                "Choisissez d'abord le site, la spécialité, le patient et le professionnel "
                "assistant."
            ),
        )
        return 400
    if not details.is_valid():
        return 400
    values = details.cleaned_data
    practitioner, start = values.pop("slot")
    try:
        consultation = consultation_book(
            actor=request.user,
            site=journey.site,
            practitioner=practitioner,
            specialty=journey.specialty,
            patient=journey.patient,
            assistant=journey.assistant,
            start=start,
            now=now,
            **values,
        )
    except BookingConflict:
        details.add_error(
            "slot",
            _(
                "Ce créneau vient d'être pris par une autre réservation : choisissez parmi les "
                "prochains créneaux libres ci-dessous."
            ),
        )
        return 409
    except BookingError as error:
        details.add_error(None, error.message)
        return page_status(error)
    when = timezone.localtime(consultation.scheduled_start)
    messages.success(
        request,
        _("Téléconsultation réservée le %(day)s à %(time)s.")
        % {"day": when.strftime("%d/%m/%Y"), "time": when.strftime("%H:%M")},
    )
    return redirect("telehealth:consultation_detail", pk=consultation.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    sites = bookable_sites(actor=request.user)
    if not sites.exists():
        raise PermissionDenied(
            _(
                "Vous ne pouvez réserver de téléconsultation sur aucun site. Demandez à l'équipe "
                "télémédecine du Département."
            )
        )
    is_post = request.method == "POST"
    action = request.POST.get("action", "") if is_post else ""
    journey = _journey(request.POST if is_post else request.GET, sites=sites, now=now)
    site, patient = journey.site, journey.patient
    patient_form = PatientForm(
        request.POST if action == "patient" else None,
        prefix="nouveau",
        initial={"is_care_home_resident": bool(site and site.kind == Site.Kind.CARE_HOME)},
    )
    details = None
    if journey.ready:
        transport = (
            TransportMode.AMBULANCE
            if patient.is_care_home_resident
            else TransportMode.LIGHT_VEHICLE
        )
        details = BookingDetailsForm(
            request.POST if action == "book" else None,
            specialty=journey.specialty,
            now=now,
            initial={"transport_avoided": transport},
        )
    status = 200
    if action == "patient":
        status = _create_patient(request, journey, patient_form)
    elif action == "book":
        status = _book_slot(request, journey, details, now=now)
    elif is_post:
        journey.selection.add_error(None, _("Action inconnue : rechargez la page."))
    if isinstance(status, HttpResponse):
        return status
    if journey.selection.errors or journey.since_error:
        status = max(status, 400)
    return render(
        request,
        "telehealth/consultations/book.html",
        _book_context(request, journey, patient_form, details, now=now, slot_taken=status == 409),
        status=status,
    )


def _book_context(request, journey: _Journey, patient_form, details, *, now, slot_taken) -> dict:
    site, specialty = journey.site, journey.specialty
    # Computed after a refused booking too: a slot taken meanwhile is gone from the list.
    slots = (
        free_slots(
            site=site,
            specialty=specialty,
            assistant=journey.assistant,
            now=now,
            since=journey.since,
        )
        if journey.ready
        else []
    )
    specialty_rows = []
    if site and specialty is None:
        specialty_rows = [
            {
                "specialty": item,
                "devices": item.required_device_labels(),
                "missing": missing_devices(site, item),
            }
            for item in specialties_offered()
        ]
    query = " ".join(request.GET.get("q", "").split())[:100]
    patients, more_patients = [], False
    if site and specialty and not journey.missing and journey.patient is None:
        found = list(
            site_patients(actor=request.user, site=site, query=query)[: PATIENTS_SHOWN + 1]
        )
        patients, more_patients = found[:PATIENTS_SHOWN], len(found) > PATIENTS_SHOWN
        audit_patients_shown(request, page="reserver", patients=patients)
    sites = list(journey.selection.fields["site"].queryset)
    chosen_slot = ""
    if details is not None and details.is_bound and not slot_taken:
        chosen_slot = request.POST.get("slot", "")
    return {
        "selection": journey.selection,
        "sites": sites,
        "site": site,
        "specialty": specialty,
        "patient": journey.patient,
        "assistant": journey.assistant,
        "assistants": journey.assistants,
        "required_kind": journey.required_kind,
        "missing": journey.missing,
        "specialty_rows": specialty_rows,
        "patients": patients,
        "more_patients": more_patients,
        "query": query,
        "patient_form": patient_form,
        "details": details,
        "slot_days": _slot_days(slots),
        "slot_count": len(slots),
        "slot_limit": SLOT_LIMIT,
        "slot_window_days": SLOT_WINDOW_DAYS,
        "chosen_slot": chosen_slot,
        "since": journey.since,
        "since_error": journey.since_error,
        "first_day": timezone.localdate(now),
        "last_day": timezone.localdate(now) + dt.timedelta(days=SLOT_WINDOW_DAYS - 1),
        "change_site_url": reverse("telehealth:consultation_book") if len(sites) > 1 else None,
        "change_specialty_url": _book_query(site=site),
        "change_patient_url": _book_query(site=site, specialty=specialty),
        "change_assistant_url": _book_query(
            site=site, specialty=specialty, patient=journey.patient
        ),
        "has_errors": bool(
            journey.selection.errors
            or patient_form.errors
            or (details is not None and details.errors)
            or journey.since_error
        ),
    }


# --- List and detail ----------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def consultations(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    visible_sites = Site.objects.filter(
        pk__in=consultations_for(request.user).values("site_id")
    ).select_related("place__commune")
    form = ConsultationFilterForm(request.GET, sites=visible_sites)
    form.is_valid()
    site = form.cleaned_data.get("site")
    status = form.cleaned_data.get("status") or ""
    upcoming = consultation_list(
        actor=request.user, site=site, status=status, upcoming=True, now=now
    )
    past = consultation_list(actor=request.user, site=site, status=status, upcoming=False, now=now)
    upcoming = list(upcoming)
    page = Paginator(past, PAST_PER_PAGE).get_page(request.GET.get("page"))
    audit_consultations_listed(request, page="liste", consultations=[*upcoming, *page.object_list])
    filters = urlencode(
        {k: v for k, v in {"site": site.pk if site else "", "status": status}.items() if v}
    )
    return render(
        request,
        "telehealth/consultations/list.html",
        {
            "form": form,
            "upcoming": upcoming,
            "page": page,
            "filters": filters,
            "may_book": bookable_sites(actor=request.user).exists(),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_safe
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(request, pk)
    _audit_view(request, consultation, "fiche")
    context = _session_context(request, consultation, now=timezone.now())
    context["incident_form"] = IncidentForm()
    context["assessment"] = assess_consultation(consultation)
    return render(request, "telehealth/consultations/detail.html", context)


# --- Running the session ------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_checklist(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(request, pk)
    _runner_or_403(request, consultation)
    now = timezone.now()
    required = consultation.specialty.required_devices
    form = ChecklistForm(
        request.POST if request.method == "POST" else None,
        consultation=consultation,
        initial={
            "consent": bool(consultation.consent_recorded_at),
            "devices": list(required) if consultation.devices_ready_at else [],
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                consultation = checklist_record(
                    actor=request.user,
                    consultation=consultation,
                    consent=form.cleaned_data["consent"],
                    devices_ready=form.cleaned_data.get("devices", []),
                    now=now,
                )
            except BookingError as error:
                form.add_error(None, error.message)
                status = page_status(error)
            else:
                if consultation.checklist_complete:
                    messages.success(
                        request, _("Liste de vérification complète : la séance peut commencer.")
                    )
                    return redirect("telehealth:consultation_detail", pk=consultation.pk)
                messages.warning(
                    request,
                    _(
                        "Accord et appareils enregistrés. Il manque un test de connexion de moins "
                        "de 24 heures : faites le test, puis enregistrez à nouveau cette liste."
                    ),
                )
                return redirect("telehealth:consultation_checklist", pk=consultation.pk)
    else:
        _audit_view(request, consultation, "preparer")
    context = _session_context(request, consultation, now=now)
    context.update(
        {
            "form": form,
            "last_test": None
            if context["checklist"]["recent_test"]
            else last_connectivity_test(consultation.site),
        }
    )
    return render(request, "telehealth/consultations/checklist.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(request, pk)
    _runner_or_403(request, consultation)
    now = timezone.now()
    has_incidents = consultation.incidents.exists()
    form = CloseForm(
        request.POST if request.method == "POST" else None,
        initial={
            "status": Consultation.Status.INCIDENT if has_incidents else Consultation.Status.DONE
        },
    )
    return _closing_page(
        request,
        consultation,
        form,
        save=lambda data: consultation_close(
            actor=request.user,
            consultation=consultation,
            status=data["status"],
            channel=data["channel"],
            now=now,
        ),
        done=_("Séance clôturée : %(status)s."),
        page="cloturer",
        template="close.html",
        now=now,
        context={"incident_form": IncidentForm()},
    )


def _closing_page(
    request, consultation, form, *, save, done: str, page: str, template: str, now, context=None
) -> HttpResponse:
    """The closing and its correction: the form, then the service (its French refusal on the
    form), then back to the consultation with `done` (its new status as %(status)s)."""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                consultation = save(form.cleaned_data)
            except BookingError as error:
                form.add_error(None, error.message)
                status = page_status(error)
            else:
                messages.success(
                    request, done % {"status": consultation.get_status_display().lower()}
                )
                return redirect("telehealth:consultation_detail", pk=consultation.pk)
    else:
        _audit_view(request, consultation, page)
    full = _session_context(request, consultation, now=now) | (context or {}) | {"form": form}
    return render(request, f"telehealth/consultations/{template}", full, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_incident(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(request, pk)
    _runner_or_403(request, consultation)
    back_to_close = (request.POST.get("retour") or request.GET.get("retour")) == "cloturer"
    form = IncidentForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                incident_record(actor=request.user, consultation=consultation, **form.cleaned_data)
            except BookingError as error:
                form.add_error(None, error.message)
                status = page_status(error)
            else:
                messages.success(request, _("Incident noté."))
                target = (
                    "telehealth:consultation_close"
                    if back_to_close
                    else "telehealth:consultation_detail"
                )
                return redirect(target, pk=consultation.pk)
    else:
        _audit_view(request, consultation, "incident")
    return render(
        request,
        "telehealth/consultations/incident.html",
        {"consultation": consultation, "incident_form": form, "back_to_close": back_to_close},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(request, pk)
    error = None
    status = 200
    if request.method == "POST":
        reason = " ".join(request.POST.get("reason", "").split())[:300]
        try:
            consultation_cancel(actor=request.user, consultation=consultation, reason=reason)
        except BookingError as exc:
            error, status = exc.message, page_status(exc)
        else:
            messages.success(request, _("Téléconsultation annulée : le créneau est libéré."))
            return redirect("telehealth:consultation_detail", pk=consultation.pk)
    else:
        _audit_view(request, consultation, "annuler")
    return render(
        request,
        "telehealth/consultations/cancel.html",
        {"consultation": consultation, "error": error},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consultation_close_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a closed session (a mis-click on « n'a pas eu lieu »): the site's coordinators
    and staff only (403 for the participants, who see the consultation)."""
    consultation = _consultation_or_404(request, pk)
    if not may_correct_closing(request.user, consultation):
        raise PermissionDenied(
            _(
                "Seuls les coordinateurs du site et l'équipe télémédecine du Département "
                "corrigent la clôture d'une séance."
            )
        )
    now = timezone.now()
    form = CloseCorrectionForm(
        request.POST if request.method == "POST" else None,
        initial={"status": consultation.status, "channel": consultation.channel},
    )
    return _closing_page(
        request,
        consultation,
        form,
        save=lambda data: consultation_close_correct(
            actor=request.user,
            consultation=consultation,
            status=data["status"],
            channel=data["channel"],
            reason=data["reason"],
            now=now,
        ),
        done=_("Clôture corrigée : %(status)s."),
        page="corriger-cloture",
        template="correct.html",
        now=now,
    )


urlpatterns = [
    path("reserver/", book, name="consultation_book"),
    path("consultations/", consultations, name="consultations"),
    path("consultations/<int:pk>/", consultation_detail, name="consultation_detail"),
    path(
        "consultations/<int:pk>/preparer/",
        consultation_checklist,
        name="consultation_checklist",
    ),
    path(
        "consultations/<int:pk>/cloturer/",
        consultation_close_view,
        name="consultation_close",
    ),
    path(
        "consultations/<int:pk>/incident/",
        consultation_incident,
        name="consultation_incident",
    ),
    path(
        "consultations/<int:pk>/annuler/",
        consultation_cancel_view,
        name="consultation_cancel",
    ),
    path(
        "consultations/<int:pk>/corriger-cloture/",
        consultation_close_correct_view,
        name="consultation_close_correct",
    ),
]
