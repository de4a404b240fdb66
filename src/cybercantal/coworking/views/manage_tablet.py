"""The tablet at a place's entrance, on which a manager is logged in: members check in with
their QR code (or the code printed under it) or their PIN.

tablet.js queues each arrival in the browser (localStorage) with its own client_uuid and sends
the queue to `manage_tablet_check_ins` as JSON whenever the network is there; the server answers
item by item, and an item sent twice is recorded once (services.checkins keys on client_uuid).
Without JavaScript, the same forms post to `manage_tablet_card` and the page reloads."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cybercantal.booking.errors import BookingError

from ..forms import CardCodeForm, CardPinForm
from ..models import CheckIn
from ..selectors.today import check_in_by_client_uuid, managed_place_get
from ..services.cards import member_by_card, pin_is_well_formed
from ..services.checkins import check_in_record
from .manage_common import managed_place

MAX_ITEMS = 100
MAX_BODY_BYTES = 64 * 1024
MAX_AGE = dt.timedelta(days=7)
# Wrong cards or PINs typed on one place's tablets: beyond this many in the window, the tablet
# stops looking cards up for a while, so that nobody tries PINs until one matches a member
# (and checks them in, using their credit).
WRONG_CARDS_LIMIT = 20
WRONG_CARDS_WINDOW_SECONDS = 15 * 60


class Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@never_cache
@login_required
@require_safe
def manage_tablet(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    return render(
        request,
        "coworking/manage/tablet.html",
        {
            "tiers_lieu": tiers_lieu,
            "pin_form": CardPinForm(auto_id="id_tablette_%s"),
            "code_form": CardCodeForm(auto_id="id_tablette_%s"),
            "endpoint": reverse("coworking:manage_tablet_check_ins", args=[tiers_lieu.pk]),
        },
    )


def _greeting(member) -> str:
    return _("Bonjour %(name)s ! Votre arrivée est enregistrée.") % {
        "name": member.first_name or member.get_full_name() or member.get_username()
    }


def _wrong_cards_key(tiers_lieu) -> str:
    return f"coworking:tablet:wrong-cards:{tiers_lieu.pk}"


def _identify(tiers_lieu, *, method: str, pin, code):
    if (cache.get(_wrong_cards_key(tiers_lieu)) or 0) >= WRONG_CARDS_LIMIT:
        raise Refused(
            _(
                "Trop de codes erronés sur cette tablette : attendez un quart d'heure, ou "
                "demandez à l'accueil d'enregistrer votre arrivée."
            )
        )
    if method == CheckIn.Method.PIN:
        if not isinstance(pin, str) or not pin_is_well_formed(pin.strip()):
            raise Refused(_("Le code PIN compte 6 chiffres."))
        member = member_by_card(pin=pin.strip())
    elif method == CheckIn.Method.QR:
        if not isinstance(code, str) or not code.strip() or len(code.strip()) > 40:
            raise Refused(_("Le code de la carte est illisible : réessayez ou tapez-le."))
        member = member_by_card(code=code.strip())
    else:
        raise Refused(_("Méthode d'enregistrement inconnue."))
    if member is None:
        key = _wrong_cards_key(tiers_lieu)
        if not cache.add(key, 1, WRONG_CARDS_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired in between
                cache.add(key, 1, WRONG_CARDS_WINDOW_SECONDS)
        raise Refused(
            _(
                "Carte ou code PIN inconnu : vérifiez le code, ou demandez à l'accueil "
                "d'enregistrer votre arrivée."
            )
        )
    return member


def _record(request: HttpRequest, tiers_lieu, *, method, pin=None, code=None, **extra):
    member = _identify(tiers_lieu, method=method, pin=pin, code=code)
    try:
        check_in_record(
            actor=request.user, tiers_lieu=tiers_lieu, member=member, method=method, **extra
        )
    except BookingError as exc:
        raise Refused(exc.message) from exc
    return member


@never_cache
@login_required
@require_POST
def manage_tablet_card(request: HttpRequest, pk: int) -> HttpResponse:
    """Without JavaScript: one arrival, by PIN or by the card's code."""
    tiers_lieu = managed_place(request, pk)
    if "pin" in request.POST:
        form, method = CardPinForm(request.POST), CheckIn.Method.PIN
    else:
        form, method = CardCodeForm(request.POST), CheckIn.Method.QR
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            member = _record(request, tiers_lieu, method=method, **form.cleaned_data)
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _greeting(member))
    return redirect("coworking:manage_tablet", pk=tiers_lieu.pk)


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _parse_at(value, *, now: dt.datetime) -> dt.datetime:
    if value in (None, ""):
        return now
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise Refused(_("L'heure d'arrivée est illisible.")) from None
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at < now - MAX_AGE:
        raise Refused(
            _("Arrivée trop ancienne pour la tablette : enregistrez-la depuis « Aujourd'hui ».")
        )
    return at


def _one_item(request: HttpRequest, tiers_lieu, item, *, now) -> dict:
    if not isinstance(item, dict):
        return {"client_uuid": None, "status": "refused", "message": _("Arrivée illisible.")}
    raw_uuid = item.get("client_uuid")
    answer = {"client_uuid": raw_uuid if isinstance(raw_uuid, str) else None}
    try:
        try:
            client_uuid = uuid.UUID(str(raw_uuid))
        except ValueError:
            raise Refused(_("Identifiant d'arrivée illisible.")) from None
        already = check_in_by_client_uuid(client_uuid)
        if already is not None:
            if already.tiers_lieu_id != tiers_lieu.pk:
                raise Refused(_("Cet identifiant d'arrivée a déjà servi ailleurs."))
            return answer | {"status": "duplicate", "message": _("Arrivée déjà reçue.")}
        member = _record(
            request,
            tiers_lieu,
            method=item.get("method"),
            pin=item.get("pin"),
            code=item.get("code"),
            client_uuid=client_uuid,
            at=_parse_at(item.get("at"), now=now),
            now=now,
        )
    except Refused as exc:
        return answer | {"status": "refused", "message": exc.message}
    return answer | {"status": "ok", "message": _greeting(member)}


@never_cache
@require_POST
def manage_tablet_check_ins(request: HttpRequest, pk: int) -> JsonResponse:
    """POST {"items": [{"client_uuid", "method": "pin"|"qr", "pin" | "code", "at"}]} →
    {"results": [{"client_uuid", "status": "ok"|"duplicate"|"refused", "message"}]}, in the
    order of the items. 400 for a body that is not such a document, 401 logged out, 404 for a
    place the person does not manage."""
    if not request.user.is_authenticated:
        return _json_error(_("Vous n'êtes plus connecté(e) : reconnectez-vous."), 401)
    tiers_lieu = managed_place_get(actor=request.user, pk=pk)
    if tiers_lieu is None:
        return _json_error(
            _("Ce tiers-lieu n'existe pas, ou vous n'en êtes pas gestionnaire."), 404
        )
    if len(request.body) > MAX_BODY_BYTES:
        return _json_error(_("Trop d'arrivées à la fois : envoyez-les en plusieurs fois."), 400)
    try:
        document = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _json_error(_("Requête illisible : un document JSON est attendu."), 400)
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        return _json_error(_("Requête illisible : la liste « items » des arrivées manque."), 400)
    if len(items) > MAX_ITEMS:
        return _json_error(_("Trop d'arrivées à la fois : envoyez-les en plusieurs fois."), 400)
    now = timezone.now()
    return JsonResponse(
        {"results": [_one_item(request, tiers_lieu, item, now=now) for item in items]}
    )


urlpatterns = [
    path("gestion/<int:pk>/tablette/", manage_tablet, name="manage_tablet"),
    path("gestion/<int:pk>/tablette/carte/", manage_tablet_card, name="manage_tablet_card"),
    path(
        "gestion/<int:pk>/tablette/arrivees/",
        manage_tablet_check_ins,
        name="manage_tablet_check_ins",
    ),
]
