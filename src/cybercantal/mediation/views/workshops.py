"""Pages of collective workshops (ateliers).

For mediators: their structure's sessions and a form to create one; a session's registrants
with a form to register someone calling by phone; the attendance page ("appel"), used on the
spot, often on a phone (present / absent for each registrant, corrected or undone until the
closing, someone who came without registering, closing).
Another structure's session answers 404.

For the public: the upcoming sessions near a commune with the seats left, and registering
with a name and a mobile number confirmed by an SMS code — booking's own code step
(booking/phone_confirmation.py, template booking/code.html) — then booking's confirmation page;
a full session puts the person on its waiting list.

Mounted under /mediation/ by mediation/urls.py (`*workshops.urlpatterns`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.booking import phone_confirmation
from cybercantal.booking.errors import BookingError
from cybercantal.booking.forms import CodeVerifyForm, PersonForm
from cybercantal.booking.models import Booking
from cybercantal.booking.services import PersonDetails
from cybercantal.booking.views._common import time_text, when_text
from cybercantal.booking.waitlist import waitlist_held_booking_ids
from cybercantal.core.notifications.sms import phone_display
from cybercantal.territory.models import Organisation, Place

from ..activity_vocabulary import THEMES
from ..forms_workshops import PersonByPhoneForm, WalkInForm, WorkshopForm
from ..models import WorkshopSession
from ..selectors import workshops as selectors
from ..services import workshops as services
from ..structures import mediator_organisation_ids
from ._nearby import nearby_search

PENDING_KEY = "mediation_workshop_pending"  # the session, the person, the hashed SMS code

# A registrant's mark as the attendance page says it (words, not only a colour).
MARK_LABELS = {
    Booking.Status.CONFIRMED: gettext_lazy("Pas encore noté(e)"),
    Booking.Status.ATTENDED: gettext_lazy("Présent(e)"),
    Booking.Status.NO_SHOW: gettext_lazy("Absent(e)"),
}
MARK_MESSAGES = {
    Booking.Status.CONFIRMED: gettext_lazy(
        "%(name)s n'est plus noté(e) : notez sa présence ou son absence avant de clôturer."
    ),
    Booking.Status.ATTENDED: gettext_lazy("%(name)s est noté(e) présent(e)."),
    Booking.Status.NO_SHOW: gettext_lazy("%(name)s est noté(e) absent(e)."),
}
# The attendance page's buttons: the mark each one asks for (None: the mark undone).
MARK_ACTIONS = {"present": True, "absent": False, "effacer": None}


def _organisation(request: HttpRequest) -> Organisation:
    ids = mediator_organisation_ids(request.user)
    if not ids:
        raise PermissionDenied(_("Cette page est réservée aux médiateurs numériques."))
    return Organisation.objects.get(pk=ids[0])


def _session_or_404(request: HttpRequest, session_id: int) -> WorkshopSession:
    session = selectors.workshop_get(actor=request.user, session_id=session_id)
    if session is None:
        raise Http404(_("Cet atelier n'existe pas ou ne vous concerne pas."))
    return session


def _decorate(session: WorkshopSession) -> WorkshopSession:
    session.when_label = when_text(session.start)
    session.end_label = time_text(session.end)
    session.theme_label = THEMES.get(session.theme, session.theme)
    return session


# --- Mediators ---------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def workshop_list(request: HttpRequest) -> HttpResponse:
    """The structure's sessions (upcoming first, then the last ones) and a form to create one."""
    organisation = _organisation(request)
    places = (
        Place.objects.filter(organisation=organisation)
        .select_related("commune")
        .order_by("commune__name", "name")
    )
    if not places.exists():
        places = (
            Place.objects.filter(is_public=True)
            .select_related("commune")
            .order_by("commune__name", "name")
        )
    form = WorkshopForm(request.POST or None, places=places)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            tz = timezone.get_current_timezone()
            try:
                session = services.workshop_create(
                    actor=request.user,
                    organisation=organisation,
                    title=data["title"],
                    theme=data["theme"],
                    level=data["level"],
                    place=data["place"],
                    start=dt.datetime.combine(data["day"], data["start_time"], tzinfo=tz),
                    end=dt.datetime.combine(data["day"], data["end_time"], tzinfo=tz),
                    capacity=data["capacity"],
                    description=data["description"],
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("L'atelier « %(title)s » est créé : on peut s'y inscrire dès maintenant.")
                    % {"title": session.title},
                )
                return redirect("mediation:workshop_detail", session_id=session.pk)
        status = 400
    now = timezone.now()
    sessions = selectors.workshop_list(actor=request.user)
    upcoming = [_decorate(s) for s in sessions.filter(end__gt=now).order_by("start")[:100]]
    past = [_decorate(s) for s in sessions.filter(end__lte=now).order_by("-start")[:30]]
    return render(
        request,
        "mediation/workshops/list.html",
        {"organisation": organisation, "upcoming": upcoming, "past": past, "form": form},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def workshop_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """The registrants, and registering someone who calls."""
    session = _decorate(_session_or_404(request, session_id))
    form = PersonByPhoneForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                registration = services.workshop_register(
                    actor=request.user,
                    session=session,
                    person=PersonDetails(form.cleaned_data["name"], form.cleaned_data["phone"]),
                    channel=Booking.Channel.PHONE,
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
            else:
                if registration.is_waiting:
                    messages.warning(
                        request,
                        _("L'atelier est complet : %(name)s est sur la liste d'attente.")
                        % {"name": registration.waiting.display_name},
                    )
                else:
                    messages.success(
                        request,
                        _("%(name)s est inscrit(e). La confirmation part par SMS.")
                        % {"name": registration.booking.display_name},
                    )
                return redirect("mediation:workshop_detail", session_id=session.pk)
        status = 400
    return render(
        request,
        "mediation/workshops/detail.html",
        {**_attendance_context(session), "form": form},
        status=status,
    )


def _attendance_context(session: WorkshopSession) -> dict:
    held = set(waitlist_held_booking_ids())
    registrations = [b for b in selectors.workshop_registrations(session) if b.pk not in held]
    for booking in registrations:
        booking.phone_label = phone_display(booking.person_phone) if booking.person_phone else ""
        booking.mark_label = MARK_LABELS.get(booking.status, booking.get_status_display())
    walk_ins = list(session.walk_ins.all())
    present = sum(b.status == Booking.Status.ATTENDED for b in registrations) + len(walk_ins)
    return {
        "session": session,
        "registrations": registrations,
        "walk_ins": walk_ins,
        "present_count": present,
        "seats_taken": services.seats_taken(session),
        "waiting_count": session.resource.waiting_list_entries.filter(
            status__in=("waiting", "offered"),
            window_start__lt=session.end,
            window_end__gt=session.start,
        ).count(),
        "status": Booking.Status,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def workshop_attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    """Taking attendance on the spot: present / absent for each registrant (corrected or
    undone until the closing), someone who came without registering, and closing the session
    (its activity report)."""
    session = _decorate(_session_or_404(request, session_id))
    walk_in_form = WalkInForm(
        request.POST if request.POST.get("action") == "sans-inscription" else None
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in MARK_ACTIONS:
                booking = (
                    selectors.workshop_registrations(session)
                    .filter(pk=_int(request.POST.get("inscription")))
                    .first()
                )
                if booking is None:
                    raise Http404(_("Cette inscription n'existe pas."))
                present = MARK_ACTIONS[action]
                if present is None:
                    booking = services.workshop_attendance_unmark(
                        actor=request.user, session=session, booking=booking
                    )
                else:
                    booking = services.workshop_attendance_mark(
                        actor=request.user, session=session, booking=booking, present=present
                    )
                messages.success(
                    request, MARK_MESSAGES[booking.status] % {"name": booking.display_name}
                )
                return redirect(_attendance_url(session) + f"#inscription-{booking.pk}")
            if action == "sans-inscription":
                if walk_in_form.is_valid():
                    services.workshop_walk_in_add(
                        actor=request.user,
                        session=session,
                        name=walk_in_form.cleaned_data["name"],
                        phone=walk_in_form.cleaned_data["phone"],
                    )
                    messages.success(request, _("Personne ajoutée à la liste des présents."))
                    return redirect(_attendance_url(session))
                status = 400
            elif action == "cloturer":
                session = services.workshop_close(actor=request.user, session=session)
                if session.activity_id:
                    messages.success(
                        request,
                        _("Atelier clôturé : son compte rendu compte %(count)d participant(s).")
                        % {"count": session.activity.participants_count},
                    )
                else:
                    messages.info(request, _("Atelier clôturé : personne n'est venu."))
                return redirect(_attendance_url(session))
            else:
                messages.error(request, _("Action inconnue."))
                status = 400
        except BookingError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
    return render(
        request,
        "mediation/workshops/attendance.html",
        {**_attendance_context(session), "walk_in_form": walk_in_form},
        status=status,
    )


def _attendance_url(session: WorkshopSession) -> str:
    return reverse("mediation:workshop_attendance", kwargs={"session_id": session.pk})


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


# --- The public -------------------------------------------------------------------------------


@require_safe
def workshops_public(request: HttpRequest) -> HttpResponse:
    """ "Ateliers près de chez vous": upcoming sessions near a commune, with the seats left."""
    context = nearby_search(request)
    commune, radius = context["commune"], context["radius"]
    if commune is not None:
        found = selectors.workshops_public_near(commune=commune, radius_km=radius)
        for item in found:
            _decorate(item.session)
        context["sessions"] = found
    return render(request, "mediation/workshops/public.html", context)


def _public_or_404(session_id: int):
    found = selectors.workshop_public_get(session_id=session_id)
    if found is None:
        raise Http404(_("Cet atelier n'existe pas, est passé, ou n'accepte plus d'inscriptions."))
    _decorate(found.session)
    return found


def _register(request: HttpRequest, found, *, person: PersonDetails | None) -> HttpResponse:
    session = found.session
    try:
        registration = services.workshop_register(
            actor=request.user, session=session, person=person
        )
    except BookingError as exc:
        return _render_register(request, found, error=exc.message, status=exc.status_code)
    if registration.is_waiting:
        return render(
            request,
            "mediation/workshops/waiting.html",
            {"session": session, "entry": registration.waiting},
        )
    phone_confirmation.remember_booking(request, registration.booking)
    return redirect("booking:booking_done", reference=registration.booking.reference)


def _render_register(
    request: HttpRequest, found, *, person_form=None, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "mediation/workshops/register.html",
        {
            "session": found.session,
            "seats_left": found.seats_left,
            "person_form": person_form or PersonForm(),
            "verified": phone_confirmation.verified_contact(request),
            "error": error,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def workshop_register(request: HttpRequest, session_id: int) -> HttpResponse:
    """Register: one click when signed in (or with a phone confirmed a moment ago), else a name
    and a mobile number confirmed by an SMS code."""
    found = _public_or_404(session_id)
    if request.method == "GET":
        return _render_register(request, found)
    if request.user.is_authenticated:
        return _register(request, found, person=None)
    verified = phone_confirmation.verified_contact(request)
    if verified and request.POST.get("action") == "confirmer":
        return _register(
            request,
            found,
            person=PersonDetails(verified["name"], verified["phone"], verified["email"]),
        )
    form = PersonForm(request.POST)
    if not form.is_valid():
        return _render_register(request, found, person_form=form, status=400)
    data = form.cleaned_data
    try:
        exceeded = phone_confirmation.send_code(
            request,
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            query=str(found.session.pk),
            key=PENDING_KEY,
        )
    except ValueError as exc:
        form.add_error("phone", str(exc))
        return _render_register(request, found, person_form=form, status=400)
    if exceeded:
        return phone_confirmation.too_many_response(request, exceeded)
    return redirect("mediation:workshop_register_code", session_id=found.session.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def workshop_register_code(request: HttpRequest, session_id: int) -> HttpResponse:
    """The SMS code (booking's step and counters), then the registration."""
    found = _public_or_404(session_id)
    session = found.session
    pending = request.session.get(PENDING_KEY)
    back_url = reverse("mediation:workshop_register", kwargs={"session_id": session.pk})
    if not pending or pending.get("query") != str(session.pk):
        messages.info(request, _("Votre demande a expiré : recommencez votre inscription."))
        return redirect(back_url)
    code_url = reverse("mediation:workshop_register_code", kwargs={"session_id": session.pk})
    form = CodeVerifyForm(request.POST or None)
    # booking/code.html speaks of `slot`: the session has the place and resource it shows.
    context = {
        "slot": session,
        "when_label": session.when_label,
        "phone_label": phone_display(pending["phone"]),
        "minutes": settings.ONE_TIME_CODE_MINUTES,
        "form": form,
        "step": 3,
        "code_url": code_url,
        "back_url": back_url,
    }
    if request.method == "POST" and request.POST.get("action") == "renvoyer":
        return phone_confirmation.resend_code(
            request,
            key=PENDING_KEY,
            pending=pending,
            purpose="booking",
            back_url=back_url,
            code_url=code_url,
        )
    if request.method == "GET":
        return render(request, "booking/code.html", context)
    if not form.is_valid():
        return render(request, "booking/code.html", context, status=400)
    refused = phone_confirmation.check_code(
        request, key=PENDING_KEY, pending=pending, form=form, context=context
    )
    if refused is not None:
        return refused
    return _register(
        request,
        found,
        person=PersonDetails(pending["name"], pending["phone"], pending["email"]),
    )


urlpatterns = [
    path("ateliers/", workshop_list, name="workshop_list"),
    path("ateliers/pres-de-chez-vous/", workshops_public, name="workshops_public"),
    path("ateliers/<int:session_id>/", workshop_detail, name="workshop_detail"),
    path("ateliers/<int:session_id>/appel/", workshop_attendance, name="workshop_attendance"),
    path("ateliers/<int:session_id>/inscription/", workshop_register, name="workshop_register"),
    path(
        "ateliers/<int:session_id>/inscription/code/",
        workshop_register_code,
        name="workshop_register_code",
    ),
]
