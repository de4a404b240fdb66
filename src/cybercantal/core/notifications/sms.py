"""Sending SMS: phone number normalisation, segment counting and pluggable backends.

settings.SMS_BACKEND names the backend class (dotted path), like EMAIL_BACKEND for e-mail:
ConsoleSmsBackend in development, LocmemSmsBackend in tests, HttpSmsBackend in production.
"""

import abc
import json
import math
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TextIO

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

# Operators split a long SMS into segments and bill each one; beyond three, messages get
# expensive and some phones reassemble them badly.
MAX_SMS_SEGMENTS = 3

# GSM 03.38: texts written only with these characters travel in 7-bit encoding (160 characters
# per SMS). Any other character (ê, â, ô, î, ç, œ, emoji…) switches the whole text to UCS-2,
# 70 characters per SMS.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these takes two septets (an escape, then the character).
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


class SmsSendError(Exception):
    """The provider did not accept the message."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    message_id: str


# ARCEP reserves 06 39 98 00 00 – 06 39 98 99 99 for fiction (films, books, demos): never
# assigned to a subscriber, so demo and test data can use it without texting a real person.
# libphonenumber treats the block as unallocated, hence the explicit exception.
FICTION_MOBILE_PREFIX = "+3363998"


def normalize_phone(raw: str, *, mobile: bool = False) -> str:
    """The number in E.164 (+33612345678). French numbers may be written the French way
    (06 12 34 56 78); foreign ones need their +country prefix. With mobile=True, refuses
    numbers that cannot receive SMS (landlines). Raises ValueError with a French message."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164.startswith(FICTION_MOBILE_PREFIX) and len(e164) == 12:
            return e164
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            _("« %(phone)s » n'est pas un numéro de téléphone valide.") % {"phone": raw}
        )
    if mobile and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValueError(
            _(
                "Le numéro « %(phone)s » n'est pas un numéro de mobile : "
                "il ne peut pas recevoir de SMS."
            )
            % {"phone": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """How a person reads a stored number: "06 12 34 56 78" for France, "+32 470 12 34 56"
    otherwise. Anything unparsable is returned as stored."""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def sms_segments(text: str) -> int:
    """How many SMS the operator will bill for this text (GSM 7-bit or UCS-2 encoding)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        septets = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    # UCS-2 counts UTF-16 code units: characters outside the BMP (emoji) take two.
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def check_sms_text(text: str) -> None:
    """Raise ValueError (in French) if the text is empty or longer than MAX_SMS_SEGMENTS."""
    if not text.strip():
        raise ValueError(_("Le texte du SMS est vide."))
    segments = sms_segments(text)
    if segments > MAX_SMS_SEGMENTS:
        raise ValueError(
            _(
                "Le texte du SMS est trop long : %(segments)d SMS seraient nécessaires, "
                "%(max)d au plus sont permis. Raccourcissez-le (les caractères accentués "
                "comme ê, â, ô, ç réduisent un SMS de 160 à 70 caractères)."
            )
            % {"segments": segments, "max": MAX_SMS_SEGMENTS}
        )


class SmsBackend(abc.ABC):
    """What every SMS backend implements."""

    @abc.abstractmethod
    def send(self, *, to: str, text: str) -> str:
        """Send `text` to `to` (E.164) and return the provider's message id. Raises if the
        provider did not accept the message."""


def get_sms_backend() -> SmsBackend:
    """An instance of the backend named by settings.SMS_BACKEND."""
    return import_string(settings.SMS_BACKEND)()


class ConsoleSmsBackend(SmsBackend):
    """Development: writes each SMS to standard output instead of sending it."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        with self._lock:
            self.stream.write(f"--- SMS {message_id} à {to} ---\n{text}\n{'-' * 40}\n")
            self.stream.flush()
        return message_id


# Messages "sent" by LocmemSmsBackend, like django.core.mail.outbox; tests empty it.
outbox: list[SmsMessage] = []


class LocmemSmsBackend(SmsBackend):
    """Tests: keeps each SMS in the module-level `outbox` list."""

    def send(self, *, to: str, text: str) -> str:
        message_id = f"locmem-{uuid.uuid4().hex}"
        outbox.append(SmsMessage(to=to, text=text, message_id=message_id))
        return message_id


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect of our POST as a GET without the message, and the 2xx of
    # whatever page it lands on would look like success.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpSmsBackend(SmsBackend):
    """Production: POSTs {"from", "to", "text"} as JSON to settings.SMS_HTTP_URL with the bearer
    token settings.SMS_HTTP_TOKEN; the provider answers 2xx and, ideally, JSON carrying the
    message id as "id", "message_id" or "messageId". Anything else raises SmsSendError."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = url if url is not None else settings.SMS_HTTP_URL
        self.token = token if token is not None else settings.SMS_HTTP_TOKEN
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.timeout = (
            timeout if timeout is not None else getattr(settings, "SMS_HTTP_TIMEOUT", 10.0)
        )
        if not self.url or not self.token:
            raise ImproperlyConfigured(
                _("SMS_HTTP_URL et SMS_HTTP_TOKEN sont obligatoires pour HttpSmsBackend.")
            )
        parsed = urllib.parse.urlsplit(self.url)
        # The token travels in a header: only over TLS, except to a relay on this machine.
        local = parsed.hostname in {"localhost", "127.0.0.1", "::1"}
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ImproperlyConfigured(
                _("SMS_HTTP_URL doit être une adresse https:// (reçu : %(url)s).")
                % {"url": self.url}
            )
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def send(self, *, to: str, text: str) -> str:
        payload = json.dumps({"from": self.sender, "to": to, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            with exc:  # the error is also the response: close it
                detail = exc.read(500).decode("utf-8", "replace")
            raise SmsSendError(
                _("Le prestataire SMS a refusé le message (HTTP %(status)s) : %(detail)s")
                % {"status": exc.code, "detail": detail}
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsSendError(
                _("Le prestataire SMS est injoignable : %(error)s") % {"error": exc}
            ) from exc
        if not 200 <= status < 300:
            raise SmsSendError(
                _("Réponse inattendue du prestataire SMS (HTTP %(status)s).") % {"status": status}
            )
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return str(data.get("id") or data.get("message_id") or data.get("messageId") or "")
