"""Joining the waiting list: when no slot suits, a service near a commune for 2, 4 or 8
weeks, in one step when signed in, else confirmed by the same SMS code as a booking; an agent
putting someone on the waiting list of a resource; the confirmation page. Leaving it: mine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cybercantal.core.notifications import Recipient
from cybercantal.core.notifications.sms import normalize_phone, phone_display
from cybercantal.core.text import normalize_search
from cybercantal.territory.models import Commune
from cybercantal.territory.selectors import commune_get

from .. import phone_confirmation, selectors, services, waitlist
from ..errors import BookingError
from ..forms import (
    DEFAULT_RADIUS_KM,
    DEFAULT_WAITLIST_WEEKS,
    RADIUS_CHOICES_KM,
    WAITLIST_WEEKS,
    AgentWaitlistForm,
    CodeVerifyForm,
    WaitlistForm,
    WaitlistPersonForm,
)
from ..models import Service, WaitingListEntry
from ._common import (
    RECENT_MAX,
    _account_for_phone,
    _agent_resources,
    _day_bounds,
    _decorate_entry,
    _require_agent,
    _resolve_commune,
    _service_by_code,
    _url,
    day_text,
)

WAITLIST_PENDING_KEY = "booking_waitlist_pending"  # the request, the person, the hashed code
WAITLIST_RECENT_KEY = "booking_waitlist_recent"  # entries made from this browser (their page)


@dataclass
class WaitlistRequest:
    """What someone asks the waiting list for: a service near a commune, for a few weeks."""

    service: Service
    commune: Commune
    radius: int
    weeks: int

    @property
    def params(self) -> dict:
        return {
            "prestation": self.service.code,
            "insee": self.commune.insee_code,
            "commune": self.commune.name,
            "rayon": self.radius,
            "semaines": self.weeks,
        }

    @property
    def query(self) -> str:
        return urlencode(self.params)

    @property
    def page_url(self) -> str:
        return _url("booking:waitlist_join", self.params)

    def window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        return now, now + dt.timedelta(weeks=self.weeks)

    def summary(self, now: dt.datetime) -> str:
        return _("%(service)s, à moins de %(km)d km de %(commune)s, jusqu'au %(day)s") % {
            "service": self.service.label,
            "km": self.radius,
            "commune": self.commune.name,
            "day": day_text(self.window(now)[1]),
        }


def _waitlist_request(form: WaitlistForm) -> WaitlistRequest | None:
    """The request of a bound form, or None with the errors added to the form (an unknown
    service, a commune not found or ambiguous: its candidates in form.candidates)."""
    form.candidates = []
    form.is_valid()
    data = form.cleaned_data
    service = _service_by_code(data.get("prestation"))
    if service is None and "prestation" in data:
        form.add_error(None, _("Cette prestation n'existe pas ou plus."))
    commune = None
    if "commune" in data:
        text, insee = data["commune"].strip(), data.get("insee") or ""
        commune = commune_get(insee) if insee else None
        if commune is None or normalize_search(commune.name) != normalize_search(text):
            commune, form.candidates = _resolve_commune(text, "")
        if commune is None and form.candidates:
            form.add_error(
                "commune",
                _("Plusieurs communes correspondent à « %(q)s » : choisissez-la ci-dessous.")
                % {"q": text},
            )
        elif commune is None:
            form.add_error(
                "commune",
                _(
                    "Aucune commune ne correspond à « %(q)s ». Vérifiez l'orthographe, ou "
                    "essayez le code postal."
                )
                % {"q": text},
            )
    if form.errors or service is None or commune is None:
        return None
    return WaitlistRequest(service, commune, data["rayon"], data["semaines"])


def _remember_entry(request: HttpRequest, entry: WaitingListEntry) -> None:
    recent = [pk for pk in request.session.get(WAITLIST_RECENT_KEY, []) if pk != entry.pk]
    request.session[WAITLIST_RECENT_KEY] = [entry.pk, *recent][:RECENT_MAX]


def _is_mobile(phone: str) -> bool:
    try:
        normalize_phone(phone or "", mobile=True)
    except ValueError:
        return False
    return True


def _offer_channels(entry: WaitingListEntry) -> list[str]:
    """How an offer will reach the person, in words (as waitlist._send_offer sends it: for an
    account, the preferred channel between SMS and e-mail; else SMS, and e-mail if given)."""
    if entry.user_id is not None:
        recipient = Recipient.from_user(entry.user)
    else:
        recipient = Recipient(
            name=entry.person_name, phone=entry.person_phone, email=entry.person_email
        )
    sms = (
        _("par SMS au %(phone)s") % {"phone": phone_display(recipient.phone)}
        if _is_mobile(recipient.phone)
        else ""
    )
    email = _("par courriel à %(email)s") % {"email": recipient.email} if recipient.email else ""
    if entry.user_id is not None:
        order = [sms, email] if recipient.prefers_sms else [email, sms]
        return [next(channel for channel in order if channel)] if any(order) else []
    return [channel for channel in (sms, email) if channel]


def _join(
    request: HttpRequest,
    wreq: WaitlistRequest,
    *,
    person: services.PersonDetails | None,
) -> WaitingListEntry:
    now = timezone.now()
    window_start, window_end = wreq.window(now)
    return waitlist.waitlist_join(
        actor=request.user,
        service=wreq.service,
        commune=wreq.commune,
        radius_km=wreq.radius,
        window_start=window_start,
        window_end=window_end,
        person=person,
        now=now,
    )


def _render_waitlist_join(
    request: HttpRequest,
    form: WaitlistForm,
    *,
    service: Service,
    wreq: WaitlistRequest | None = None,
    person_form: WaitlistPersonForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "service": service,
        "wreq": wreq,
        "candidates": [
            (c, _url("booking:waitlist_join", {**_waitlist_params(form), "insee": c.insee_code}))
            for c in getattr(form, "candidates", [])
        ],
        "person_form": person_form or WaitlistPersonForm(),
        "verified": phone_confirmation.verified_contact(request),
        "error": error,
        "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        "login_url": _url(
            "accounts:login",
            {"next": _url("booking:waitlist_join", _waitlist_params(form))},
        ),
        "back_url": _url("booking:slots", _waitlist_params(form, with_weeks=False)),
    }
    return render(request, "booking/waitlist_join.html", context, status=status)


def _waitlist_params(form: WaitlistForm, *, with_weeks: bool = True) -> dict:
    source = form.data if form.is_bound else form.initial
    params = {"prestation": source.get("prestation", ""), "rayon": source.get("rayon", "")}
    if source.get("insee"):
        params["insee"] = source.get("insee")
    if with_weeks:
        params["semaines"] = source.get("semaines", "")
    return params


def _waitlist_done_redirect(request: HttpRequest, entry: WaitingListEntry) -> HttpResponse:
    _remember_entry(request, entry)
    return redirect("booking:waitlist_done", entry_id=entry.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_join(request: HttpRequest) -> HttpResponse:
    """ "Aucun créneau ne convient ?": join the waiting list of a service near a commune for
    the next 2, 4 or 8 weeks. In one step when signed in (or with a phone confirmed a moment
    ago), else with a name and a mobile number confirmed by the booking's SMS code."""
    if request.method == "GET":
        service = _service_by_code(request.GET.get("prestation"))
        if service is None:
            messages.warning(
                request, _("Choisissez d'abord ce pour quoi vous voulez un rendez-vous.")
            )
            return redirect("booking:start")
        commune = commune_get(request.GET.get("insee") or "")
        user = request.user
        if commune is None and user.is_authenticated and getattr(user, "home_commune_id", None):
            commune = user.home_commune
        initial = {
            "prestation": service.code,
            "insee": commune.insee_code if commune else "",
            "commune": commune.name if commune else request.GET.get("commune", "")[:100],
            "rayon": request.GET.get("rayon") or str(DEFAULT_RADIUS_KM),
            "semaines": request.GET.get("semaines") or str(DEFAULT_WAITLIST_WEEKS),
        }
        if initial["rayon"] not in {str(km) for km in RADIUS_CHOICES_KM}:
            initial["rayon"] = str(DEFAULT_RADIUS_KM)
        if initial["semaines"] not in {str(w) for w in WAITLIST_WEEKS}:
            initial["semaines"] = str(DEFAULT_WAITLIST_WEEKS)
        return _render_waitlist_join(request, WaitlistForm(initial=initial), service=service)

    form = WaitlistForm(request.POST)
    service = _service_by_code(request.POST.get("prestation"))
    if service is None:
        messages.warning(request, _("Cette prestation n'existe pas ou plus : choisissez-en une."))
        return redirect("booking:start")
    action = request.POST.get("action", "")
    if action == "autre-personne":
        phone_confirmation.forget_verified_contact(request)
        return redirect(_url("booking:waitlist_join", _waitlist_params(form)))
    wreq = _waitlist_request(form)
    if wreq is None:
        return _render_waitlist_join(
            request, form, service=service, person_form=WaitlistPersonForm(request.POST), status=400
        )

    person = None
    if not request.user.is_authenticated:
        verified = phone_confirmation.verified_contact(request)
        if verified and action == "inscrire":
            person = services.PersonDetails(
                name=verified["name"], phone=verified["phone"], email=verified["email"]
            )
        else:
            person_form = WaitlistPersonForm(request.POST)
            if not person_form.is_valid():
                return _render_waitlist_join(
                    request, form, service=service, person_form=person_form, status=400
                )
            data = person_form.cleaned_data
            try:
                exceeded = phone_confirmation.send_code(
                    request,
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    query=wreq.query,
                    key=WAITLIST_PENDING_KEY,
                    purpose="waitlist",
                )
            except ValueError as exc:
                person_form.add_error("phone", str(exc))
                return _render_waitlist_join(
                    request, form, service=service, person_form=person_form, status=400
                )
            if exceeded:
                return phone_confirmation.too_many_response(request, exceeded)
            return redirect("booking:waitlist_code")
    try:
        entry = _join(request, wreq, person=person)
    except BookingError as exc:
        return _render_waitlist_join(
            request, form, service=service, error=exc.message, status=exc.status_code
        )
    return _waitlist_done_redirect(request, entry)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_code(request: HttpRequest) -> HttpResponse:
    """The SMS code of a waiting-list request without an account: the booking's code, with
    the same limits (booking/phone_confirmation.py)."""
    pending = request.session.get(WAITLIST_PENDING_KEY)
    if not pending:
        messages.info(
            request,
            _("Votre demande a expiré ou est déjà confirmée : recommencez votre inscription."),
        )
        return redirect("booking:start")
    form_request = WaitlistForm(QueryDict(pending["query"]))
    wreq = _waitlist_request(form_request)
    if wreq is None:
        request.session.pop(WAITLIST_PENDING_KEY, None)
        messages.warning(request, _("Cette demande n'est plus valable : recommencez-la."))
        return redirect("booking:start")
    code_url = reverse("booking:waitlist_code")
    form = CodeVerifyForm(request.POST or None)
    context = {
        "purpose": "waitlist",
        "summary": wreq.summary(timezone.now()),
        "phone_label": phone_display(pending["phone"]),
        "minutes": settings.ONE_TIME_CODE_MINUTES,
        "form": form,
        "code_url": code_url,
        "back_url": wreq.page_url,
    }
    if request.method == "POST" and request.POST.get("action") == "renvoyer":
        return phone_confirmation.resend_code(
            request,
            key=WAITLIST_PENDING_KEY,
            pending=pending,
            purpose="waitlist",
            back_url=wreq.page_url,
            code_url=code_url,
        )
    if request.method == "GET":
        return render(request, "booking/code.html", context)
    if not form.is_valid():
        return render(request, "booking/code.html", context, status=400)
    refused = phone_confirmation.check_code(
        request, key=WAITLIST_PENDING_KEY, pending=pending, form=form, context=context
    )
    if refused is not None:
        return refused
    person = services.PersonDetails(
        name=pending["name"], phone=pending["phone"], email=pending["email"]
    )
    try:
        entry = _join(request, wreq, person=person)
    except BookingError as exc:
        return _render_waitlist_join(
            request,
            WaitlistForm(initial=wreq.params),
            service=wreq.service,
            error=exc.message,
            status=exc.status_code,
        )
    return _waitlist_done_redirect(request, entry)


@never_cache
@require_safe
def waitlist_done(request: HttpRequest, entry_id: int) -> HttpResponse:
    """The confirmation of an inscription: for the person (their account, or this browser),
    or for the agent who made it."""
    entry = (
        WaitingListEntry.objects.select_related(
            "service", "resource__place", "place", "commune", "user"
        )
        .filter(pk=entry_id)
        .first()
    )
    user = request.user
    allowed = entry is not None and (
        entry.pk in request.session.get(WAITLIST_RECENT_KEY, [])
        or (user.is_authenticated and user.pk in (entry.user_id, entry.created_by_id))
    )
    if not allowed:
        raise Http404(_("Cette inscription n'existe pas, ou vous ne pouvez pas la voir."))
    _decorate_entry(entry)
    return render(
        request,
        "booking/waitlist_done.html",
        {
            "entry": entry,
            "channels": _offer_channels(entry),
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
            "is_holder": user.is_authenticated and entry.user_id == user.pk,
            "for_someone_else": user.is_authenticated
            and entry.created_by_id == user.pk
            and entry.user_id != user.pk,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_waitlist(request: HttpRequest) -> HttpResponse:
    """An agent puts someone on the waiting list of a resource they manage, when no free slot
    suits the person on the phone. Reached from the booking form ("Rien ne convient ?"), whose
    values it takes over."""
    resources = _require_agent(request)
    resource_qs = _agent_resources(request.user)
    service_qs = selectors.service_list().filter(resources__in=resource_qs).distinct()
    joining = request.method == "POST" and request.POST.get("action") == "inscrire"
    if joining:
        form = AgentWaitlistForm(request.POST, resources=resource_qs, services=service_qs)
    else:
        source = request.POST if request.method == "POST" else request.GET
        form = AgentWaitlistForm(
            initial={
                "phone": source.get("phone", ""),
                "name": source.get("name", ""),
                "email": source.get("email", ""),
                "resource": source.get("resource") or source.get("ressource") or resources[0].pk,
                "service": source.get("service", ""),
                "day": source.get("day") or source.get("date") or "",
                "semaines": str(DEFAULT_WAITLIST_WEEKS),
            },
            resources=resource_qs,
            services=service_qs,
        )
    phone_raw = ((request.POST if joining else form.initial).get("phone") or "").strip()
    phone, account = _account_for_phone(phone_raw)
    error, status = "", 200
    if joining:
        status = 400
        if form.is_valid():
            cleaned = form.cleaned_data
            if account is None and not cleaned["name"]:
                form.add_error(
                    "name", _("Aucun compte n'a ce numéro : indiquez le nom de la personne.")
                )
            else:
                now = timezone.now()
                window_start = max(now, _day_bounds(cleaned["day"])[0]) if cleaned["day"] else now
                person = None
                if account is None:
                    person = services.PersonDetails(
                        name=cleaned["name"], phone=cleaned["phone"], email=cleaned["email"]
                    )
                try:
                    entry = waitlist.waitlist_join(
                        actor=request.user,
                        resource=cleaned["resource"],
                        service=cleaned["service"],
                        window_start=window_start,
                        window_end=window_start + dt.timedelta(weeks=cleaned["semaines"]),
                        for_user=account,
                        person=person,
                        now=now,
                    )
                except BookingError as exc:
                    error, status = exc.message, exc.status_code
                else:
                    return redirect("booking:waitlist_done", entry_id=entry.pk)
    return render(
        request,
        "booking/agent_waitlist.html",
        {
            "form": form,
            "account": account,
            "phone_searched": bool(phone_raw),
            "phone_unreadable": bool(phone_raw) and not phone,
            "error": error,
            "hold_minutes": settings.BOOKING_WAITLIST_HOLD_MINUTES,
        },
        status=status,
    )
