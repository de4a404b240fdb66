"""Connectivity tests: recording what a site measured (in the browser, or read off another
speed test) and what it allows — video, audio only or the phone — and the bandwidth budget
that keeps the measuring endpoints from being used to pull or push data at will.

Thresholds (why these numbers):
- Video needs to receive the practitioner's picture and to send the site's camera. The Jitsi
  Meet handbook (docs/devops-guide/requirements.md, "Jitsi Meet needs") puts a video stream at
  about 500 kbit/s in 360p and 2.5 Mbit/s in 720p (HD); with simulcast the sender sends the
  180p and 360p layers too. We ask for 2 Mbit/s down (a 720p stream adapts down to what gets
  through, 360p comfortably fits) and 1.5 Mbit/s up (360p plus its simulcast layers plus the
  examination camera's bursts), so that a consultation does not freeze when the line is shared.
- Audio only: Opus, the WebRTC voice codec, uses 6 to 40 kbit/s, about 55 kbit/s on the wire
  with the packet overhead (RFC 7587; WebRTC vendors' figures): 100 kbit/s each way leaves room.
- Latency: ITU-T G.114 advises at most 150 ms one way for an unhindered conversation and
  finds 400 ms the limit of an acceptable one. We measure a round trip to the platform over
  HTTP, which over-states the one-way media delay: a round trip within these bounds is safe.
- Below the audio bounds, the consultation is held by phone (the practitioner calls the site).
Jitter is recorded and shown but does not change the recommendation: the browser's jitter
buffer absorbs tens of milliseconds, and a single HTTP measure of it is noisy.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingForbidden
from cybercantal.core.audit import audit_log

from ..models import ConnectivityTest, Site
from ..perms import may_book_at

Recommendation = ConnectivityTest.Recommendation

VIDEO_MIN_DOWNLOAD_MBPS = Decimal("2")
VIDEO_MIN_UPLOAD_MBPS = Decimal("1.5")
VIDEO_MAX_LATENCY_MS = 150
AUDIO_MIN_DOWNLOAD_MBPS = Decimal("0.1")
AUDIO_MIN_UPLOAD_MBPS = Decimal("0.1")
AUDIO_MAX_LATENCY_MS = 400

# Plausible ranges: beyond them the figure was mistyped (kbit/s for Mbit/s, seconds for ms).
MAX_SPEED_MBPS = Decimal("10000")  # 10 Gbit/s, more than any site's line
MAX_LATENCY_MS = 5000  # a geostationary satellite round trip is about 600 ms
MAX_JITTER_MS = 5000

# The endpoints of the browser test: one download is at most 25 Mo, one upload at most 10 Mo,
# and each person has an hourly budget of bytes. A test on a fast line takes at most 26 Mo down
# and 8.25 Mo up (js/connectivity.js), on a slow one much less: the budget allows several tests
# an hour, not a source or a sink of data at will.
MAX_DOWNLOAD_BYTES = 25_000_000
MAX_UPLOAD_BYTES = 10_000_000
DOWNLOAD_BUDGET_BYTES_PER_HOUR = 200_000_000
UPLOAD_BUDGET_BYTES_PER_HOUR = 100_000_000
BUDGET_WINDOW_SECONDS = 3600

SOURCE_BROWSER = "navigateur"
SOURCE_MANUAL = "saisie"
SOURCES = (SOURCE_BROWSER, SOURCE_MANUAL)

_TWO_PLACES = Decimal("0.01")


def recommend(*, download_mbps: Decimal, upload_mbps: Decimal, latency_ms: int) -> str:
    """Video, audio only or phone for these figures (thresholds above)."""
    if (
        download_mbps >= VIDEO_MIN_DOWNLOAD_MBPS
        and upload_mbps >= VIDEO_MIN_UPLOAD_MBPS
        and latency_ms <= VIDEO_MAX_LATENCY_MS
    ):
        return Recommendation.VIDEO
    if (
        download_mbps >= AUDIO_MIN_DOWNLOAD_MBPS
        and upload_mbps >= AUDIO_MIN_UPLOAD_MBPS
        and latency_ms <= AUDIO_MAX_LATENCY_MS
    ):
        return Recommendation.AUDIO
    return Recommendation.PHONE


def _mbps_text(value: Decimal) -> str:
    text = f"{value.normalize():f}".replace(".", ",")
    return f"{text}\u00a0Mbit/s"


def recommendation_sentence(recommendation: str) -> str:
    """The recommendation in plain words, for the person at the site."""
    if recommendation == Recommendation.VIDEO:
        return _("Votre connexion permet la vidéo.")
    if recommendation == Recommendation.AUDIO:
        return _(
            "Votre connexion permet l'audio seulement : la téléconsultation se fera sans image."
        )
    return _(
        "Votre connexion ne suffit ni pour la vidéo ni pour l'audio : prévoyez la "
        "téléconsultation par téléphone."
    )


def shortfalls(test: ConnectivityTest) -> list[str]:
    """What kept the test below video, in words ("débit montant : 0,8 Mbit/s, il faut
    1,5 Mbit/s pour la vidéo"); empty when video is possible."""
    if test.recommendation == Recommendation.VIDEO:
        return []
    # For audio, say what video lacks; for phone, what audio lacks.
    if test.recommendation == Recommendation.AUDIO:
        need, down, up, latency = (
            _("pour la vidéo"),
            VIDEO_MIN_DOWNLOAD_MBPS,
            VIDEO_MIN_UPLOAD_MBPS,
            VIDEO_MAX_LATENCY_MS,
        )
    else:
        need, down, up, latency = (
            _("pour l'audio"),
            AUDIO_MIN_DOWNLOAD_MBPS,
            AUDIO_MIN_UPLOAD_MBPS,
            AUDIO_MAX_LATENCY_MS,
        )
    lines = []
    if test.download_mbps < down:
        lines.append(
            _("débit descendant : %(value)s, il faut %(need)s %(what)s")
            % {"value": _mbps_text(test.download_mbps), "need": _mbps_text(down), "what": need}
        )
    if test.upload_mbps < up:
        lines.append(
            _("débit montant : %(value)s, il faut %(need)s %(what)s")
            % {"value": _mbps_text(test.upload_mbps), "need": _mbps_text(up), "what": need}
        )
    if test.latency_ms > latency:
        lines.append(
            _("latence : %(value)s\u00a0ms, il faut %(need)s\u00a0ms au plus %(what)s")
            % {"value": test.latency_ms, "need": latency, "what": need}
        )
    return lines


def _speed(value, field: str, label: str, errors: dict) -> Decimal | None:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        errors[field] = _("%(label)s : saisissez un nombre, par exemple 12,5.") % {"label": label}
        return None
    if not number.is_finite() or number < 0 or number > MAX_SPEED_MBPS:
        errors[field] = _(
            "%(label)s : indiquez une valeur entre 0 et 10 000 Mbit/s (vérifiez l'unité : "
            "Mbit/s, pas kbit/s)."
        ) % {"label": label}
        return None
    return number.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)


def _milliseconds(value, field: str, label: str, maximum: int, errors: dict) -> int | None:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        errors[field] = _("%(label)s : saisissez un nombre de millisecondes.") % {"label": label}
        return None
    if not number.is_finite() or number < 0 or number > maximum:
        errors[field] = _(
            "%(label)s : indiquez une valeur entre 0 et %(maximum)s ms (vérifiez l'unité : "
            "millisecondes, pas secondes)."
        ) % {"label": label, "maximum": f"{maximum:,}".replace(",", "\u00a0")}
        return None
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def connectivity_record(
    *,
    actor,
    site: Site,
    download_mbps,
    upload_mbps,
    latency_ms,
    jitter_ms=0,
    source: str = SOURCE_BROWSER,
    now: dt.datetime | None = None,
) -> ConnectivityTest:
    """Store a connectivity test of `site` and its recommendation. Those who may book at the
    site (perms.may_book_at: its coordinators, assisting professionals, the agents of its
    organisation) and staff may record one; BookingForbidden otherwise. Figures outside the
    plausible ranges raise ValidationError (one French message per field) and store nothing."""
    if not may_book_at(actor, site):
        raise BookingForbidden(_("Vous ne pouvez pas tester la connexion de ce site."))
    errors: dict[str, str] = {}
    download = _speed(download_mbps, "download_mbps", _("Débit descendant"), errors)
    upload = _speed(upload_mbps, "upload_mbps", _("Débit montant"), errors)
    latency = _milliseconds(latency_ms, "latency_ms", _("Latence"), MAX_LATENCY_MS, errors)
    jitter = _milliseconds(
        0 if jitter_ms in (None, "") else jitter_ms, "jitter_ms", _("Gigue"), MAX_JITTER_MS, errors
    )
    if source not in SOURCES:
        errors["source"] = _("Origine de la mesure inconnue.")
    if errors:
        raise ValidationError(errors)
    recommendation = recommend(download_mbps=download, upload_mbps=upload, latency_ms=latency)
    with transaction.atomic():
        test = ConnectivityTest.objects.create(
            site=site,
            measured_by=actor,
            measured_at=now or timezone.now(),
            download_mbps=download,
            upload_mbps=upload,
            latency_ms=latency,
            jitter_ms=jitter,
            recommendation=recommendation,
        )
        audit_log(
            actor=actor,
            action="telehealth.connectivity_record",
            target=test,
            data={"source": source, "recommendation": recommendation},
        )
    return test


def bandwidth_take(*, user, direction: str, nbytes: int) -> bool:
    """Count `nbytes` against the person's hourly budget for `direction` ("down" or "up");
    False when the budget is spent (the caller then refuses with 429 and sends nothing).

    The window is the clock hour, counted in the shared cache. Where the cache's incr is not
    atomic (Django's database cache), simultaneous requests may lose a few counts: the budget
    is then a little looser, never broken by much, since each request is capped in size."""
    budget = DOWNLOAD_BUDGET_BYTES_PER_HOUR if direction == "down" else UPLOAD_BUDGET_BYTES_PER_HOUR
    window = int(time.time() // BUDGET_WINDOW_SECONDS)
    key = f"telehealth:connectivity:{direction}:{user.pk}:{window}"
    cache.add(key, 0, timeout=BUDGET_WINDOW_SECONDS + 60)
    try:
        used = cache.incr(key, nbytes)
    except ValueError:  # expired between add and incr
        cache.set(key, nbytes, timeout=BUDGET_WINDOW_SECONDS + 60)
        used = nbytes
    return used <= budget
