"""The connectivity test of a site (/telesante/sites/<site>/connexion/) and the three endpoints
its script measures against (/telesante/connexion/…): a tiny answer for the latency, random
bytes for the download speed, a sink for the upload speed.

The page works without JavaScript: it explains, and takes the figures of another speed test.
The endpoints answer only people who may test a site, are never cached, cap each request's
size and count each person's bytes per hour (services.connectivity.bandwidth_take), so that
they cannot be used to pull or push data at will."""

from __future__ import annotations

import math
import os
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cybercantal.booking.errors import BookingError

from ..forms_network import ConnectivityForm
from ..models import ConnectivityTest
from ..selectors.network import (
    connectivity_sites,
    connectivity_tests_recent,
    may_test_connectivity,
)
from ..services.connectivity import (
    AUDIO_MAX_LATENCY_MS,
    AUDIO_MIN_DOWNLOAD_MBPS,
    AUDIO_MIN_UPLOAD_MBPS,
    BUDGET_WINDOW_SECONDS,
    MAX_DOWNLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    SOURCE_BROWSER,
    VIDEO_MAX_LATENCY_MS,
    VIDEO_MIN_DOWNLOAD_MBPS,
    VIDEO_MIN_UPLOAD_MBPS,
    bandwidth_take,
    connectivity_record,
    recommendation_sentence,
    shortfalls,
)

CHUNK_BYTES = 64 * 1024
# Digits read of a size: more would be over any cap anyway (and int() refuses huge strings).
SIZE_DIGITS = 12


def _plain(text: str, status: int, **headers) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _endpoint_refusal(request: HttpRequest) -> HttpResponse | None:
    """403 (not a redirect to the login page: a script reads the answer) for anyone who may
    test no site."""
    if not request.user.is_authenticated:
        return _plain(_("Connectez-vous pour tester la connexion."), 403)
    if not may_test_connectivity(request.user):
        return _plain(_("Vous ne pouvez tester la connexion d'aucun site."), 403)
    return None


def _retry_after() -> str:
    return str(max(1, math.ceil(BUDGET_WINDOW_SECONDS - time.time() % BUDGET_WINDOW_SECONDS)))


# --- The page ------------------------------------------------------------------------------------


def _site_for(request: HttpRequest, site_pk: int):
    # Someone who may test no site at all is refused (403); otherwise a site that is not
    # theirs is "not found" (404), so that its existence is not confirmed.
    sites = connectivity_sites(actor=request.user)
    site = sites.filter(pk=site_pk).first()
    if site is None:
        if not sites.exists():
            raise PermissionDenied(
                _(
                    "Le test de connexion est réservé aux personnes qui préparent les "
                    "téléconsultations d'un site et à l'équipe télémédecine du Département."
                )
            )
        raise Http404(_("Aucun de vos sites ne porte ce numéro."))
    return site


def _script_texts() -> dict[str, str]:
    """The script's words, translated here so that the interface has one catalogue."""
    return {
        "latency": _("Étape 1 sur 3 : mesure du temps de réponse…"),
        "download": _("Étape 2 sur 3 : mesure du débit descendant (réception)…"),
        "upload": _("Étape 3 sur 3 : mesure du débit montant (envoi)…"),
        "saving": _("Mesure terminée, enregistrement du résultat…"),
        "busy": _(
            "Trop de tests en une heure sur ce compte : réessayez plus tard, ou saisissez les "
            "chiffres d'un autre test ci-dessous."
        ),
        "failed": _(
            "Le test n'a pas pu aller au bout (connexion coupée ou trop lente). Réessayez, "
            "ou saisissez les chiffres d'un autre test ci-dessous."
        ),
    }


def _thresholds() -> dict[str, str]:
    def mbps(value) -> str:
        return f"{value.normalize():f}".replace(".", ",")

    return {
        "video_down": mbps(VIDEO_MIN_DOWNLOAD_MBPS),
        "video_up": mbps(VIDEO_MIN_UPLOAD_MBPS),
        "video_latency": VIDEO_MAX_LATENCY_MS,
        "audio_down": mbps(AUDIO_MIN_DOWNLOAD_MBPS),
        "audio_up": mbps(AUDIO_MIN_UPLOAD_MBPS),
        "audio_latency": AUDIO_MAX_LATENCY_MS,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def connectivity_test(request: HttpRequest, site_pk: int) -> HttpResponse:
    site = _site_for(request, site_pk)
    status = 200
    if request.method == "POST":
        form = ConnectivityForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                test = connectivity_record(
                    actor=request.user,
                    site=site,
                    download_mbps=data["download_mbps"],
                    upload_mbps=data["upload_mbps"],
                    latency_ms=data["latency_ms"],
                    jitter_ms=data["jitter_ms"],
                    source=data["source"],
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, recommendation_sentence(test.recommendation))
                return redirect(reverse("telehealth:connectivity_test", args=[site.pk]))
        status = 400
    else:
        form = ConnectivityForm(initial={"source": "saisie"})
    tests = connectivity_tests_recent(site=site)
    latest = tests[0] if tests else None
    return render(
        request,
        "telehealth/connectivity/test.html",
        {
            "site": site,
            "form": form,
            "tests": tests,
            "latest": latest,
            "latest_sentence": recommendation_sentence(latest.recommendation) if latest else "",
            "latest_shortfalls": shortfalls(latest) if latest else [],
            "Recommendation": ConnectivityTest.Recommendation,
            "thresholds": _thresholds(),
            "script_texts": _script_texts(),
            "source_browser": SOURCE_BROWSER,
            "max_upload_bytes": MAX_UPLOAD_BYTES,
            "max_download_bytes": MAX_DOWNLOAD_BYTES,
        },
        status=status,
    )


# --- The measuring endpoints ---------------------------------------------------------------------


@never_cache
@require_GET
def connectivity_ping(request: HttpRequest) -> HttpResponse:
    """An empty answer: the script times ten of them for the latency."""
    if not request.user.is_authenticated:
        return _plain(_("Connectez-vous pour tester la connexion."), 403)
    return HttpResponse(status=204)


def _random_chunks(size: int):
    # Fresh random bytes for every chunk: nothing along the way (proxy, antivirus, a
    # compressing link) can shrink them, so the time measured is the line's.
    left = size
    while left > 0:
        step = min(CHUNK_BYTES, left)
        yield os.urandom(step)
        left -= step


@never_cache
@require_GET
def connectivity_download(request: HttpRequest) -> HttpResponse:
    """`?taille=N`: N random bytes (at most MAX_DOWNLOAD_BYTES; more is served capped)."""
    if refusal := _endpoint_refusal(request):
        return refusal
    raw = request.GET.get("taille", "").strip()
    if not raw.isdigit() or int(raw) < 1:
        return _plain(
            _("Paramètre « taille » invalide : indiquez un nombre d'octets, 1 au moins."), 400
        )
    size = min(int(raw[:SIZE_DIGITS]), MAX_DOWNLOAD_BYTES)
    if not bandwidth_take(user=request.user, direction="down", nbytes=size):
        return _plain(
            _("Trop de tests en une heure : réessayez plus tard."),
            429,
            Retry_After=_retry_after(),
        )
    response = StreamingHttpResponse(_random_chunks(size), content_type="application/octet-stream")
    response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_POST
def connectivity_upload(request: HttpRequest) -> HttpResponse:
    """Reads and discards the body (at most MAX_UPLOAD_BYTES); answers how many bytes came."""
    if refusal := _endpoint_refusal(request):
        return refusal
    raw = request.META.get("CONTENT_LENGTH") or "0"
    if not raw.isdigit():
        return _plain(_("Longueur de l'envoi invalide."), 400)
    declared = int(raw[:SIZE_DIGITS])
    too_big = _("Envoi trop volumineux : %(max)s octets au plus.") % {
        "max": f"{MAX_UPLOAD_BYTES:,}".replace(",", "\u00a0")
    }
    if declared > MAX_UPLOAD_BYTES:
        return _plain(too_big, 413)
    if not bandwidth_take(user=request.user, direction="up", nbytes=declared):
        return _plain(
            _("Trop de tests en une heure : réessayez plus tard."),
            429,
            Retry_After=_retry_after(),
        )
    received = 0
    # Read in chunks and throw away: the body is never held in memory nor stored.
    while chunk := request.read(CHUNK_BYTES):
        received += len(chunk)
        if received > MAX_UPLOAD_BYTES:  # the declared length lied
            return _plain(too_big, 413)
    return JsonResponse({"recu": received})


urlpatterns = [
    path("sites/<int:site_pk>/connexion/", connectivity_test, name="connectivity_test"),
    path("connexion/ping/", connectivity_ping, name="connectivity_ping"),
    path("connexion/telechargement/", connectivity_download, name="connectivity_download"),
    path("connexion/envoi/", connectivity_upload, name="connectivity_upload"),
]
