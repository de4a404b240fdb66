"""Online payment of an invoice: "Payer en ligne" (POST, sends the payer to the provider), the
return page (shows what the platform knows, never what the address says), the provider's
notification (server to server, verified by the provider class, the only thing that records
money) and, for development only, the simulated provider's page.

The notification endpoint answers 200 when the notification is applied or was already,
400 when it cannot be trusted or read, 404 when online payment is off, and 503 (the provider
retries later) for a fault of ours: never 500."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cybercantal.booking.errors import BookingError

from ..invoicing.amounts import format_cents
from ..models import Invoice, OnlinePayment
from ..payments.base import NoticeStatus, PaymentNotificationError, PaymentProviderError
from ..payments.loader import online_payment_enabled, payment_provider
from ..payments.simulated import SimulatedPaymentProvider
from ..selectors.payments import (
    MEMBER_INVOICES_SHOWN,
    member_invoices,
    online_payment_get,
    payable_invoice_get,
)
from ..services.online_payments import online_payment_notified, online_payment_start

logger = logging.getLogger(__name__)


def member_invoice_rows(user) -> list[dict]:
    """The member's invoices as "Mes passes" shows them, with the "Payer en ligne" button
    only when a provider is configured and something is due."""
    online = online_payment_enabled()
    rows = []
    for invoice in member_invoices(actor=user, member=user)[:MEMBER_INVOICES_SHOWN]:
        payable = invoice.kind == Invoice.Kind.INVOICE and invoice.status == Invoice.Status.ISSUED
        due = max(invoice.due_cents, 0) if payable else 0
        rows.append(
            {
                "invoice": invoice,
                "total": format_cents(invoice.total_incl_tax_cents),
                "due": format_cents(due),
                "status": invoice.get_kind_display()
                if invoice.kind == Invoice.Kind.CREDIT_NOTE
                else invoice.get_status_display(),
                "can_pay_online": online and due > 0,
            }
        )
    return rows


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("coworking:my_passes")


@never_cache
@login_required
@require_POST
def payment_start(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = payable_invoice_get(actor=request.user, invoice_id=invoice_id)
    if invoice is None:
        raise Http404(_("Cette facture n'existe pas, ou vous ne pouvez pas la payer."))
    try:
        attempt = online_payment_start(
            actor=request.user, invoice=invoice, base_url=request.build_absolute_uri("/")
        )
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect(_back(request))
    return HttpResponseRedirect(attempt.redirect_url)


RETURN_TEXTS = {
    OnlinePayment.Status.CREATED: "pending",
    OnlinePayment.Status.PENDING: "pending",
    OnlinePayment.Status.PAID: "paid",
    OnlinePayment.Status.FAILED: "failed",
    OnlinePayment.Status.CANCELLED: "cancelled",
    OnlinePayment.Status.ANOMALY: "anomaly",
}


@never_cache
@login_required
@require_safe
def payment_return(request: HttpRequest, reference) -> HttpResponse:
    # Whatever the provider appended to the address (status=paid…) is ignored: only the
    # attempt, updated by the verified notification, says what happened.
    attempt = online_payment_get(actor=request.user, reference=reference)
    if attempt is None:
        raise Http404(_("Ce paiement n'existe pas, ou vous ne pouvez pas le voir."))
    return render(
        request,
        "coworking/payments/return.html",
        {
            "attempt": attempt,
            "invoice": attempt.invoice,
            "state": RETURN_TEXTS[attempt.status],
            "amount": format_cents(attempt.amount_cents),
            "passes_url": reverse("coworking:my_passes"),
        },
    )


@csrf_exempt
@require_POST
def payment_notify(request: HttpRequest) -> HttpResponse:
    try:
        provider = payment_provider()
    except Exception:  # a misconfiguration: the provider will retry once it is fixed
        logger.exception("Payment provider misconfigured")
        return JsonResponse({"error": "indisponible"}, status=503)
    if provider is None:
        return JsonResponse({"error": _("Le paiement en ligne n'est pas activé.")}, status=404)
    try:
        notice = provider.parse_notification(request)
    except PaymentNotificationError as exc:
        logger.warning("Payment notification refused (%s): %s", provider.key, exc)
        return JsonResponse({"error": str(exc)}, status=400)
    except Exception:  # unreadable body, provider API down: refuse, the provider retries
        logger.exception("Payment notification could not be read (%s)", provider.key)
        return JsonResponse({"error": _("Notification illisible.")}, status=400)
    try:
        result = online_payment_notified(provider=provider, notice=notice)
    except Exception:
        logger.exception("Payment notification could not be applied (%s)", provider.key)
        return JsonResponse({"error": "indisponible"}, status=503)
    return JsonResponse({"outcome": result.outcome})


# --- development only: the simulated provider's page ------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def payment_simulated(request: HttpRequest) -> HttpResponse:
    provider = payment_provider() if online_payment_enabled() else None
    if not isinstance(provider, SimulatedPaymentProvider):
        raise Http404(_("Le paiement simulé n'est pas activé."))
    query = request.POST if request.method == "POST" else request.GET
    checkout = provider.read_checkout(query.get("c", ""))
    if checkout is None:
        raise Http404(_("Ce paiement simulé n'existe pas ou a expiré."))
    context = {
        "checkout": checkout,
        "token": query.get("c", ""),
        "amount": format_cents(checkout["amount"]),
        "errors": [],
    }
    if request.method == "POST":
        try:
            issue = NoticeStatus(request.POST.get("issue", ""))
        except ValueError:
            context["errors"].append(_("Choisissez une issue du paiement."))
            return render(request, "coworking/payments/simulated.html", context, status=400)
        try:
            provider.deliver(checkout["notify"], provider.notification_body(checkout, issue))
        except PaymentProviderError as exc:
            context["errors"].append(str(exc))
            return render(request, "coworking/payments/simulated.html", context, status=502)
        return HttpResponseRedirect(checkout["return"])
    return render(request, "coworking/payments/simulated.html", context)


urlpatterns = [
    path(
        "factures/<int:invoice_id>/payer-en-ligne/",
        payment_start,
        name="payment_start",
    ),
    path("paiements/<uuid:reference>/", payment_return, name="payment_return"),
    path("paiements/notification/", payment_notify, name="payment_notify"),
    path("paiements/simulation/", payment_simulated, name="payment_simulated"),
]
