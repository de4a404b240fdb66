"""Online payment of invoices: nothing offered by default; with a provider, who may start a
checkout and for which invoices; the verified notification is the only thing that records money,
once; bad signatures and wrong amounts record nothing; the return page only reads."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html import unescape

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse

from cybercantal.core.models import AuditLog
from cybercantal.coworking.models import Invoice, OnlinePayment, Payment
from cybercantal.coworking.payments import signing
from cybercantal.coworking.payments.base import (
    Checkout,
    PaymentNotificationError,
    PaymentProvider,
    PaymentProviderError,
)
from cybercantal.coworking.payments.loader import payment_provider
from cybercantal.coworking.payments.simulated import SIGNATURE_HEADER, SimulatedPaymentProvider
from cybercantal.coworking.services.invoices import invoice_credit, payment_record
from tests.accounts.factories import UserFactory

from .manage_fixtures import world

pytestmark = pytest.mark.django_db

SIMULATED = "cybercantal.coworking.payments.simulated.SimulatedPaymentProvider"
SECRET = "secret-de-test"
with_provider = override_settings(
    COWORKING_PAYMENT_PROVIDER=SIMULATED, COWORKING_PAYMENT_SECRET=SECRET
)
PASSES = reverse("coworking:my_passes")
NOTIFY = reverse("coworking:payment_notify")


class BrokenProvider(PaymentProvider):
    """A provider whose service is down."""

    key = "broken"
    label = "En panne"

    def start_checkout(self, *, invoice, amount_cents, reference, return_url, notify_url):
        raise PaymentProviderError("service indisponible")

    def parse_notification(self, request):
        raise PaymentNotificationError("jamais")


class NotAProvider:
    pass


@pytest.fixture
def w():
    return world()


def start(client, invoice):
    return client.post(reverse("coworking:payment_start", args=[invoice.pk]))


def started(client, w) -> OnlinePayment:
    client.force_login(w.member)
    response = start(client, w.invoice)
    assert response.status_code == 302, response
    return OnlinePayment.objects.get(invoice=w.invoice)


def notify(client, attempt, *, status="paid", amount=None, number=None, secret=SECRET, **kw):
    body = json.dumps(
        {
            "reference": attempt.provider_reference,
            "invoice": number or attempt.invoice.number,
            "amount_cents": attempt.amount_cents if amount is None else amount,
            "status": status,
            "paid_at": "2027-03-10T10:00:00+01:00" if status == "paid" else None,
        }
    ).encode()
    header = signing.signature_header(secret=secret.encode(), body=body, **kw)
    return client.post(
        NOTIFY, data=body, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


# --- nothing by default ----------------------------------------------------------------------


def test_by_default_invoices_are_shown_without_the_online_button(client, w):
    assert payment_provider() is None
    client.force_login(w.member)
    html = client.get(PASSES).content.decode()
    assert "Mes factures" in html and w.invoice.number in html
    assert "Payer en ligne" not in html
    # Someone else's invoice (numbers are per operator: both are the first of their series).
    assert w.other_invoice.number == w.invoice.number and html.count(w.invoice.number) == 1

    response = start(client, w.invoice)
    assert response.status_code == 302 and response.url == PASSES
    assert "n'est pas proposé" in messages_of(response)
    assert not OnlinePayment.objects.exists()
    assert client.post(NOTIFY, data=b"{}", content_type="application/json").status_code == 404
    assert client.get(reverse("coworking:payment_simulated")).status_code == 404


@with_provider
def test_with_a_provider_the_button_is_shown_while_something_is_due(client, w):
    client.force_login(w.member)
    html = client.get(PASSES).content.decode()
    assert "Payer en ligne" in html
    assert reverse("coworking:payment_start", args=[w.invoice.pk]) in html
    payment_record(
        actor=w.manager,
        invoice=w.invoice,
        amount_cents=w.invoice.total_incl_tax_cents,
        method="cash",
        received_on=w.invoice.issued_on,
    )
    assert "Payer en ligne" not in client.get(PASSES).content.decode()


# --- starting a checkout ---------------------------------------------------------------------


@with_provider
def test_the_customer_starts_a_checkout_for_what_is_due(client, w):
    payment_record(
        actor=w.manager,
        invoice=w.invoice,
        amount_cents=2_500,
        method="cash",
        received_on=w.invoice.issued_on,
    )
    attempt = started(client, w)
    assert attempt.status == OnlinePayment.Status.PENDING
    assert attempt.amount_cents == w.invoice.total_incl_tax_cents - 2_500
    assert attempt.provider_key == "simulated" and attempt.provider_reference.startswith("simu_")
    assert attempt.started_by == w.member
    page = client.get(attempt.redirect_url)
    assert page.status_code == 200
    assert "75,00\u00a0€" in page.content.decode() and w.invoice.number in page.content.decode()
    # A second click within minutes gets the same checkout, not a second one to pay.
    assert start(client, w.invoice).url == attempt.redirect_url
    assert OnlinePayment.objects.count() == 1


@with_provider
def test_a_manager_of_the_operator_may_start_one(client, w):
    client.force_login(w.manager)
    assert start(client, w.invoice).status_code == 302
    assert OnlinePayment.objects.get().started_by == w.manager


@with_provider
def test_anyone_else_gets_a_404_and_nothing_is_started(client, w):
    for intruder in (w.other_pass.member, w.other_manager, UserFactory()):
        client.force_login(intruder)
        assert start(client, w.invoice).status_code == 404
    client.logout()
    response = start(client, w.invoice)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert client.get(reverse("coworking:payment_start", args=[w.invoice.pk])).status_code in (
        302,
        405,
    )
    assert not OnlinePayment.objects.exists()


@with_provider
def test_credit_notes_credited_and_paid_invoices_are_refused(client, w):
    credit_note = invoice_credit(actor=w.manager, invoice=w.invoice, reason="Erreur de tarif")
    client.force_login(w.member)
    response = start(client, credit_note)
    assert "Un avoir ne se paie pas." in messages_of(response)
    response = start(client, w.invoice)
    assert "annulée par un avoir" in messages_of(response)

    payment_record(
        actor=w.other_manager,
        invoice=w.other_invoice,
        amount_cents=w.other_invoice.total_incl_tax_cents,
        method="transfer",
        received_on=w.other_invoice.issued_on,
    )
    client.force_login(w.other_pass.member)
    assert "déjà payée" in messages_of(start(client, w.other_invoice))
    assert not OnlinePayment.objects.exists()


@override_settings(COWORKING_PAYMENT_PROVIDER=f"{__name__}.BrokenProvider")
def test_a_provider_that_fails_gives_a_french_message_and_a_failed_attempt(client, w):
    client.force_login(w.member)
    response = start(client, w.invoice)
    assert response.status_code == 302 and response.url == PASSES
    assert "n'a pas pu ouvrir le paiement : service indisponible" in messages_of(response)
    attempt = OnlinePayment.objects.get()
    assert attempt.status == OnlinePayment.Status.FAILED and attempt.message


@override_settings(COWORKING_PAYMENT_PROVIDER=f"{__name__}.NotAProvider")
def test_the_setting_must_name_a_payment_provider():
    with pytest.raises(ImproperlyConfigured):
        payment_provider()


# --- the notification ------------------------------------------------------------------------


@with_provider
def test_a_verified_notification_records_the_payment_and_the_invoice_is_paid(client, w):
    attempt = started(client, w)
    response = notify(Client(), attempt)
    assert response.status_code == 200 and response.json() == {"outcome": "recorded"}
    payment = Payment.objects.get(invoice=w.invoice)
    assert payment.method == Payment.Method.ONLINE
    assert payment.amount_cents == w.invoice.total_incl_tax_cents
    assert payment.recorded_by is None and attempt.provider_reference in payment.reference
    w.invoice.refresh_from_db()
    attempt.refresh_from_db()
    assert w.invoice.status == Invoice.Status.PAID
    assert attempt.status == OnlinePayment.Status.PAID and attempt.payment == payment
    assert AuditLog.objects.filter(action="coworking.online_payment_notified").exists()
    page = client.get(reverse("coworking:payment_return", args=[attempt.reference]))
    assert "Paiement reçu" in page.content.decode() and 'role="status"' in page.content.decode()


@with_provider
def test_the_same_notification_twice_records_one_payment(client, w):
    attempt = started(client, w)
    assert notify(Client(), attempt).json() == {"outcome": "recorded"}
    again = notify(Client(), attempt)
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    # A late "failed" after the success changes nothing either.
    assert notify(Client(), attempt, status="failed").json() == {"outcome": "duplicate"}
    assert Payment.objects.filter(invoice=w.invoice).count() == 1
    attempt.refresh_from_db()
    assert attempt.status == OnlinePayment.Status.PAID


@with_provider
@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "no signature", "body changed", "too old", "garbage header"],
)
def test_a_notification_that_cannot_be_trusted_gets_400_and_records_nothing(client, w, tamper):
    attempt = started(client, w)
    other = Client()
    if tamper == "wrong secret":
        response = notify(other, attempt, secret="pas-le-bon")
    elif tamper == "too old":
        response = notify(other, attempt, timestamp=int(time.time()) - 3600)
    else:
        body = json.dumps(
            {
                "reference": attempt.provider_reference,
                "invoice": w.invoice.number,
                "amount_cents": attempt.amount_cents,
                "status": "paid",
            }
        ).encode()
        header = signing.signature_header(secret=SECRET.encode(), body=body)
        headers = {
            "no signature": {},
            "body changed": {SIGNATURE_HEADER: header},
            "garbage header": {SIGNATURE_HEADER: "v1=,t=abc,=="},
        }[tamper]
        if tamper == "body changed":
            body = body.replace(b'"paid"', b'"paid" ')
        response = other.post(NOTIFY, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not Payment.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == OnlinePayment.Status.PENDING


@with_provider
@pytest.mark.parametrize(
    "body",
    [b"", b"pas du json", b"[1, 2]", b'{"reference": 3}', b"\xff\xfe", b'{"amount_cents": true}'],
)
def test_signed_but_malformed_notifications_get_400(client, body):
    header = signing.signature_header(secret=SECRET.encode(), body=body)
    response = client.post(
        NOTIFY, data=body, content_type="application/json", headers={SIGNATURE_HEADER: header}
    )
    assert response.status_code == 400


@with_provider
def test_a_notification_for_an_unknown_checkout_records_nothing(client, w):
    attempt = started(client, w)
    attempt.provider_reference = "simu_inconnu"
    response = notify(Client(), attempt)
    assert response.status_code == 200 and response.json() == {"outcome": "unknown"}
    assert not Payment.objects.exists()


@with_provider
@pytest.mark.parametrize("wrong", ["amount", "invoice"])
def test_a_paid_notification_that_is_not_what_is_due_is_an_anomaly(client, w, wrong):
    attempt = started(client, w)
    if wrong == "amount":
        response = notify(Client(), attempt, amount=attempt.amount_cents - 1)
    else:
        response = notify(Client(), attempt, number="F-2020-000999")
    assert response.status_code == 200 and response.json() == {"outcome": "anomaly"}
    assert not Payment.objects.exists()
    attempt.refresh_from_db()
    w.invoice.refresh_from_db()
    assert attempt.status == OnlinePayment.Status.ANOMALY and attempt.message
    assert w.invoice.status == Invoice.Status.ISSUED
    assert AuditLog.objects.filter(action="coworking.online_payment_anomaly").exists()
    page = client.get(reverse("coworking:payment_return", args=[attempt.reference]))
    assert "Paiement à vérifier" in page.content.decode()


@with_provider
def test_an_invoice_paid_at_the_desk_meanwhile_is_not_paid_twice(client, w):
    attempt = started(client, w)
    payment_record(
        actor=w.manager,
        invoice=w.invoice,
        amount_cents=w.invoice.total_incl_tax_cents,
        method="card",
        received_on=w.invoice.issued_on,
    )
    assert notify(Client(), attempt).json() == {"outcome": "anomaly"}
    assert Payment.objects.filter(invoice=w.invoice).count() == 1
    attempt.refresh_from_db()
    assert "déjà payée" in attempt.message


@with_provider
def test_a_refused_then_accepted_payment_is_recorded_once(client, w):
    attempt = started(client, w)
    assert notify(Client(), attempt, status="failed").json() == {"outcome": "failed"}
    page = client.get(reverse("coworking:payment_return", args=[attempt.reference]))
    assert "Paiement refusé" in page.content.decode()
    assert notify(Client(), attempt).json() == {"outcome": "recorded"}
    assert Payment.objects.filter(invoice=w.invoice).count() == 1


@with_provider
def test_a_cancelled_payment_is_shown_as_abandoned(client, w):
    attempt = started(client, w)
    assert notify(Client(), attempt, status="cancelled").json() == {"outcome": "cancelled"}
    page = client.get(reverse("coworking:payment_return", args=[attempt.reference]))
    assert "Paiement abandonné" in page.content.decode()
    assert not Payment.objects.exists()


# --- the return page -------------------------------------------------------------------------


@with_provider
def test_the_return_page_never_marks_anything_paid_on_its_own(client, w):
    attempt = started(client, w)
    url = reverse("coworking:payment_return", args=[attempt.reference])
    page = client.get(url + "?status=paid&resultrans=P&amount_cents=10000")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Paiement en cours de confirmation" in html and "Paiement reçu" not in html
    assert 'role="status"' in html
    assert not Payment.objects.exists()
    attempt.refresh_from_db()
    w.invoice.refresh_from_db()
    assert attempt.status == OnlinePayment.Status.PENDING
    assert w.invoice.status == Invoice.Status.ISSUED
    assert client.post(url).status_code == 405


@with_provider
def test_the_return_page_is_shown_only_to_those_who_may_pay(client, w):
    attempt = started(client, w)
    url = reverse("coworking:payment_return", args=[attempt.reference])
    client.force_login(w.other_pass.member)
    assert client.get(url).status_code == 404
    client.force_login(w.manager)
    assert client.get(url).status_code == 200
    missing = reverse("coworking:payment_return", args=[uuid.uuid4()])
    assert client.get(missing).status_code == 404


# --- the simulated provider, end to end ------------------------------------------------------


@with_provider
def test_the_simulated_provider_pays_through_a_signed_notification(client, w, monkeypatch):
    provider_side = Client()

    def deliver(self, notify_url, body):
        # What the provider's servers do: a signed POST to the notification address.
        response = provider_side.post(
            urllib.parse.urlsplit(notify_url).path,
            data=body,
            content_type="application/json",
            headers={SIGNATURE_HEADER: signing.signature_header(secret=self.secret, body=body)},
        )
        if response.status_code != 200:
            raise PaymentProviderError(f"réponse {response.status_code}")

    monkeypatch.setattr(SimulatedPaymentProvider, "deliver", deliver)
    attempt = started(client, w)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(attempt.redirect_url).query)["c"][0]
    simulated = reverse("coworking:payment_simulated")
    assert client.post(simulated, {"c": token, "issue": "n'importe"}).status_code == 400
    assert client.get(simulated, {"c": token + "x"}).status_code == 404
    assert not Payment.objects.exists()
    response = client.post(simulated, {"c": token, "issue": "paid"})
    assert response.status_code == 302
    assert response.url.endswith(reverse("coworking:payment_return", args=[attempt.reference]))
    assert Payment.objects.get().method == Payment.Method.ONLINE
    assert "Paiement reçu" in client.get(response.url).content.decode()


@with_provider
def test_the_simulated_provider_says_when_the_notification_does_not_arrive(client, w, monkeypatch):
    def unreachable(request, timeout):
        raise urllib.error.URLError("connexion refusée")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    attempt = started(client, w)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(attempt.redirect_url).query)["c"][0]
    # The platform cannot be reached: the delivery fails, nothing is recorded.
    response = client.post(reverse("coworking:payment_simulated"), {"c": token, "issue": "paid"})
    assert response.status_code == 502
    assert "notification n'a pas pu être envoyée" in unescape(response.content.decode())
    assert not Payment.objects.exists()


# --- the signature ---------------------------------------------------------------------------


def test_signatures_are_checked_in_constant_time_and_accept_a_rotated_secret():
    body, secret = b'{"a": 1}', b"k"
    header = signing.signature_header(secret=secret, body=body, timestamp=1_000)
    signing.verify_signature(secret=secret, body=body, header=header, now=1_010)
    rotated = header + ",v1=" + "0" * 64
    signing.verify_signature(secret=secret, body=body, header=rotated, now=1_010)
    with pytest.raises(PaymentNotificationError):
        signing.verify_signature(secret=b"autre", body=body, header=header, now=1_010)
    with pytest.raises(PaymentNotificationError):
        signing.verify_signature(secret=secret, body=body, header=header, now=1_000 + 301)
    with pytest.raises(PaymentNotificationError):
        signing.verify_signature(secret=b"", body=body, header=header, now=1_010)


def test_checkout_is_a_plain_value():
    assert Checkout("https://pay.example/x", "ref").provider_reference == "ref"


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@with_provider
def test_the_same_notification_from_many_connections_records_one_payment():
    from cybercantal.coworking.payments.base import NoticeStatus, PaymentNotice
    from cybercantal.coworking.services.online_payments import (
        online_payment_notified,
        online_payment_start,
    )
    from tests.concurrency import run_concurrently

    w = world()
    attempt = online_payment_start(actor=w.member, invoice=w.invoice)
    notice = PaymentNotice(
        provider_reference=attempt.provider_reference,
        invoice_number=w.invoice.number,
        amount_cents=attempt.amount_cents,
        status=NoticeStatus.PAID,
    )
    provider = SimulatedPaymentProvider()
    outcomes = run_concurrently(
        lambda i: online_payment_notified(provider=provider, notice=notice).outcome, 10
    )
    assert sorted(outcomes) == ["duplicate"] * 9 + ["recorded"]
    assert Payment.objects.filter(invoice=w.invoice).count() == 1


def test_production_refuses_the_simulated_provider(tmp_path):
    from tests.core.test_settings import manage

    env = {
        "DJANGO_SETTINGS_MODULE": "cybercantal.config.settings.prod",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "services.cantal.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CYBERCANTAL_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "SMS_BACKEND": "cybercantal.core.notifications.sms.HttpSmsBackend",
        "CYBERCANTAL_SITE_URL": "https://services.cantal.example",
        "CYBERCANTAL_PAYMENT_PROVIDER": SIMULATED,
    }
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "le paiement simulé est réservé au développement" in result.stderr
    env["CYBERCANTAL_PAYMENT_PROVIDER"] = ""
    assert "paiement simulé" not in manage("check", env=env).stderr
