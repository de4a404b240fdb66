"""Invoices of a place's operator: the list, the PDF, recording a payment, a credit note, and
the accounting exports (CSV for a spreadsheet, FEC for the accountant)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..forms import ExportForm, PaymentForm, ReasonForm
from ..invoicing.amounts import format_cents
from ..invoicing.exports import fec_filename, invoices_csv, invoices_fec
from ..invoicing.pdf import invoice_pdf
from ..models import Invoice
from ..selectors.manage import operator_invoice_get, operator_invoices
from ..services.invoices import invoice_credit, invoice_paid_cents, payment_record
from .manage_common import managed_place, submit

LIST_LIMIT = 200


def _invoices_url(tiers_lieu) -> str:
    return reverse("coworking:manage_invoices", args=[tiers_lieu.pk])


def _invoice_or_404(request: HttpRequest, tiers_lieu, invoice_id: int) -> Invoice:
    invoice = operator_invoice_get(actor=request.user, tiers_lieu=tiers_lieu, invoice_id=invoice_id)
    if invoice is None:
        raise Http404(_("Cette facture n'existe pas, ou vous ne pouvez pas la voir."))
    return invoice


@never_cache
@login_required
@require_safe
def manage_invoices(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    export_form = ExportForm(request.GET or None)
    year = export_form.cleaned_data["annee"] if export_form.is_valid() else None
    invoices = list(
        operator_invoices(actor=request.user, tiers_lieu=tiers_lieu, year=year)[:LIST_LIMIT]
    )
    for invoice in invoices:
        invoice.total_label = format_cents(invoice.total_incl_tax_cents)
        invoice.can_pay = invoice.kind == Invoice.Kind.INVOICE and (
            invoice.status == Invoice.Status.ISSUED
        )
        invoice.can_credit = invoice.kind == Invoice.Kind.INVOICE and (
            invoice.status != Invoice.Status.CREDITED
        )
    return render(
        request,
        "coworking/manage/invoices.html",
        {
            "tiers_lieu": tiers_lieu,
            "invoices": invoices,
            "year": year,
            "export_form": export_form if export_form.is_bound else ExportForm(),
        },
    )


@never_cache
@login_required
@require_safe
def manage_invoice_pdf(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    invoice = _invoice_or_404(request, tiers_lieu, invoice_id)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_invoice_payment(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    invoice = _invoice_or_404(request, tiers_lieu, invoice_id)
    remaining = invoice.total_incl_tax_cents - invoice_paid_cents(invoice)
    form = PaymentForm(request.POST or None)

    def record(data: dict) -> str:
        payment_record(
            actor=request.user,
            invoice=invoice,
            amount_cents=data["amount"],
            method=data["method"],
            received_on=data["received_on"],
            reference=data["reference"],
        )
        return _("Paiement de %(amount)s enregistré sur la facture %(number)s.") % {
            "amount": format_cents(data["amount"]),
            "number": invoice.number,
        }

    done, status = submit(request, form, record, then=_invoices_url(tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/invoice_payment.html",
        {
            "tiers_lieu": tiers_lieu,
            "invoice": invoice,
            "form": form,
            "total": format_cents(invoice.total_incl_tax_cents),
            "remaining": format_cents(max(remaining, 0)),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def manage_invoice_credit(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    invoice = _invoice_or_404(request, tiers_lieu, invoice_id)
    form = ReasonForm(request.POST or None)

    def credit(data: dict) -> str:
        credit_note = invoice_credit(actor=request.user, invoice=invoice, reason=data["reason"])
        return _("Avoir %(credit)s émis : la facture %(number)s est annulée.") % {
            "credit": credit_note.number,
            "number": invoice.number,
        }

    done, status = submit(request, form, credit, then=_invoices_url(tiers_lieu))
    if done:
        return done
    return render(
        request,
        "coworking/manage/invoice_credit.html",
        {
            "tiers_lieu": tiers_lieu,
            "invoice": invoice,
            "form": form,
            "total": format_cents(invoice.total_incl_tax_cents),
        },
        status=status,
    )


def _export_year(request: HttpRequest):
    form = ExportForm(request.GET)
    return form.cleaned_data["annee"] if form.is_valid() else None


@never_cache
@login_required
@require_safe
def manage_invoices_csv(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    year = _export_year(request)
    if "annee" in request.GET and year is None:
        messages.error(request, _("Indiquez une année entre 2000 et 2100."))
        return redirect(_invoices_url(tiers_lieu))
    queryset = operator_invoices(actor=request.user, tiers_lieu=tiers_lieu, year=year)
    # A BOM, so that spreadsheets read the accents right.
    response = HttpResponse("\ufeff" + invoices_csv(queryset), content_type="text/csv")
    suffix = f"-{year}" if year else ""
    response["Content-Disposition"] = f'attachment; filename="factures{suffix}.csv"'
    return response


@never_cache
@login_required
@require_safe
def manage_invoices_fec(request: HttpRequest, pk: int) -> HttpResponse:
    tiers_lieu = managed_place(request, pk)
    year = _export_year(request)
    if year is None:
        messages.error(request, _("Indiquez l'année de l'export FEC (entre 2000 et 2100)."))
        return redirect(_invoices_url(tiers_lieu))
    operator = tiers_lieu.place.organisation
    response = HttpResponse(
        invoices_fec(operator=operator, year=year), content_type="text/plain; charset=utf-8"
    )
    name = fec_filename(operator=operator, closing_date=dt.date(year, 12, 31))
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("gestion/<int:pk>/factures/", manage_invoices, name="manage_invoices"),
    path("gestion/<int:pk>/factures/export.csv", manage_invoices_csv, name="manage_invoices_csv"),
    path("gestion/<int:pk>/factures/fec/", manage_invoices_fec, name="manage_invoices_fec"),
    path(
        "gestion/<int:pk>/factures/<int:invoice_id>/pdf/",
        manage_invoice_pdf,
        name="manage_invoice_pdf",
    ),
    path(
        "gestion/<int:pk>/factures/<int:invoice_id>/paiement/",
        manage_invoice_payment,
        name="manage_invoice_payment",
    ),
    path(
        "gestion/<int:pk>/factures/<int:invoice_id>/avoir/",
        manage_invoice_credit,
        name="manage_invoice_credit",
    ),
]
