"""Offers and prices: a place's offers (/tiers-lieux/gestion/<pk>/offres/, its managers) and
the network's offers (/tiers-lieux/gestion/reseau/offres/, the Département's staff only: 403
for anyone else). Creating, changing (a new price is for future sales only), withdrawing from
sale and putting back on sale, deleting an offer never sold. The rules are the services'
(services.catalogue); a refusal is shown in the form, in French."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cybercantal.booking.errors import BookingError

from ..forms_catalogue import OfferForm, days_text, vat_text
from ..models import Offer, TiersLieu
from ..perms import is_network_staff
from ..selectors.catalogue import (
    network_offer_get,
    network_offers,
    place_offer_get,
    place_offers,
)
from ..services.catalogue import (
    NETWORK_KINDS,
    kind_defaults,
    offer_create,
    offer_delete,
    offer_restore,
    offer_update,
    offer_withdraw,
)
from .manage_common import managed_place, submit
from .network import half_days_text, price_text


@dataclass
class Scope:
    """Where the offers are: a place (its managers) or the network (the Département's staff).
    URL names are "manage_offer…" or "manage_network_offer…"."""

    tiers_lieu: TiersLieu | None

    @property
    def prefix(self) -> str:
        return "coworking:manage_offer" if self.tiers_lieu else "coworking:manage_network_offer"

    def url(self, suffix: str = "s", offer: Offer | None = None) -> str:
        args = [self.tiers_lieu.pk] if self.tiers_lieu else []
        if offer is not None:
            args.append(offer.pk)
        return reverse(self.prefix + suffix, args=args)


def _place_scope(request: HttpRequest, pk: int) -> Scope:
    return Scope(managed_place(request, pk))


def _network_scope(request: HttpRequest) -> Scope:
    if not is_network_staff(request.user):
        raise PermissionDenied(_("Seuls les agents du Département gèrent les offres du réseau."))
    return Scope(None)


def _offer_or_404(request: HttpRequest, scope: Scope, offer_id: int) -> Offer:
    if scope.tiers_lieu is None:
        offer = network_offer_get(actor=request.user, offer_id=offer_id)
    else:
        offer = place_offer_get(actor=request.user, tiers_lieu=scope.tiers_lieu, offer_id=offer_id)
    if offer is None:
        raise Http404(_("Cette offre n'existe pas, ou elle n'est pas vendue ici."))
    return offer


def vat_rate_text(rate) -> str:
    return _("%(rate)s %%") % {"rate": vat_text(rate).replace(".", ",")}


def offer_row(offer: Offer, scope: Scope | None = None) -> dict:
    """What the offers table shows of an offer, in words, with its action URLs."""
    validity = ngettext("%(count)d jour", "%(count)d jours", offer.validity_days) % {
        "count": offer.validity_days
    }
    row = {
        "offer": offer,
        "price": price_text(offer.price_cents),
        "vat": vat_rate_text(offer.vat_rate),
        "credit": half_days_text(offer.half_days) if offer.half_days else _("sans limite"),
        "validity": validity,
        "consumed_on": offer.get_consumed_on_display(),
        "passes_sold": getattr(offer, "passes_sold", None),
    }
    if offer.kind == Offer.Kind.ROOM_HOUR:
        # A price, not a pass: billed with each booking.
        row |= {
            "price": _("%(price)s de l'heure") % {"price": row["price"]},
            "credit": "—",
            "validity": "—",
            "consumed_on": _("facturé avec la réservation"),
        }
    if scope is not None:
        row |= {
            "edit_url": scope.url("_edit", offer),
            "withdraw_url": scope.url("_withdraw", offer),
            "restore_url": scope.url("_restore", offer),
            "delete_url": scope.url("_delete", offer),
        }
    return row


def _list(request: HttpRequest, scope: Scope) -> HttpResponse:
    if scope.tiers_lieu is None:
        offers = network_offers(actor=request.user)
        shared = []
    else:
        offers = place_offers(actor=request.user, tiers_lieu=scope.tiers_lieu)
        shared = (
            network_offers(actor=request.user, active_only=True)
            if scope.tiers_lieu.is_in_network
            else []
        )
    rows = [offer_row(o, scope) for o in offers]
    return render(
        request,
        "coworking/manage/offers.html",
        {
            "tiers_lieu": scope.tiers_lieu,
            "active": [r for r in rows if r["offer"].is_active],
            "withdrawn": [r for r in rows if not r["offer"].is_active],
            "network_rows": [offer_row(o) for o in shared],
            "is_network_staff": is_network_staff(request.user),
            "kinds": _kinds(scope),
            "create_url": scope.url("_create"),
        },
    )


def _kinds(scope: Scope) -> list[tuple[str, str]]:
    """The kinds of offer one may create here (each one a link to the form)."""
    network = scope.tiers_lieu is None
    return [
        (value, label)
        for value, label in Offer.Kind.choices
        if (value in NETWORK_KINDS if network else value != Offer.Kind.NETWORK_PASS)
    ]


def _form_page(request: HttpRequest, scope: Scope, *, offer: Offer | None = None) -> HttpResponse:
    network = scope.tiers_lieu is None
    form = OfferForm(request.POST or None, network=network, offer=offer)
    if offer is None and request.method == "GET":
        kind = request.GET.get("type")
        if kind in dict(form.fields["kind"].choices):
            defaults = kind_defaults(kind)
            form.initial |= {
                "kind": kind,
                "credit_days": days_text(defaults["half_days"]),
                "validity_days": defaults["validity_days"],
            }
    if offer is not None and offer.passes_sold:
        # Its passes would read as something else: the service refuses it too.
        form.fields["kind"].disabled = True

    def save(data: dict) -> str:
        fields = form.service_fields()
        if offer is None:
            created = offer_create(actor=request.user, tiers_lieu=scope.tiers_lieu, **fields)
            return _("Offre « %(offer)s » créée et mise en vente.") % {"offer": created.label}
        updated = offer_update(actor=request.user, offer=offer, **fields)
        return _("Offre « %(offer)s » enregistrée. Les passes déjà vendus gardent leur prix.") % {
            "offer": updated.label
        }

    done, status = submit(request, form, save, then=scope.url())
    if done:
        return done
    return render(
        request,
        "coworking/manage/offer_form.html",
        {
            "tiers_lieu": scope.tiers_lieu,
            "form": form,
            "offer": offer,
            "passes_sold": offer.passes_sold if offer is not None else 0,
            "list_url": scope.url(),
        },
        status=status,
    )


def _set_on_sale(request: HttpRequest, scope: Scope, offer_id: int, *, on_sale: bool):
    offer = _offer_or_404(request, scope, offer_id)
    service = offer_restore if on_sale else offer_withdraw
    try:
        service(actor=request.user, offer=offer)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        text = (
            _("L'offre « %(offer)s » est de nouveau en vente.")
            if on_sale
            else _(
                "L'offre « %(offer)s » est retirée de la vente. Les passes déjà vendus restent "
                "valables."
            )
        )
        messages.success(request, text % {"offer": offer.label})
    return redirect(scope.url())


def _delete_page(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    offer = _offer_or_404(request, scope, offer_id)
    status = 200
    error = ""
    if request.method == "POST":
        try:
            offer_delete(actor=request.user, offer=offer)
        except BookingError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(
                request, _("L'offre « %(offer)s » est supprimée.") % {"offer": offer.label}
            )
            return redirect(scope.url())
    return render(
        request,
        "coworking/manage/offer_delete.html",
        {
            "tiers_lieu": scope.tiers_lieu,
            "row": offer_row(offer, scope),
            "error": error,
            "list_url": scope.url(),
        },
        status=status,
    )


# --- A place's offers -------------------------------------------------------------------------


def _place_view(handler, methods):
    def view(request: HttpRequest, pk: int, **kwargs) -> HttpResponse:
        return handler(request, _place_scope(request, pk), **kwargs)

    view.__name__ = view.__qualname__ = f"place_{handler.__name__.lstrip('_')}"
    return never_cache(login_required(methods(view)))


def _network_view(handler, methods):
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        return handler(request, _network_scope(request), **kwargs)

    view.__name__ = view.__qualname__ = f"network_{handler.__name__.lstrip('_')}"
    return never_cache(login_required(methods(view)))


def _edit(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    return _form_page(request, scope, offer=_offer_or_404(request, scope, offer_id))


def _withdraw(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    return _set_on_sale(request, scope, offer_id, on_sale=False)


def _restore(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    return _set_on_sale(request, scope, offer_id, on_sale=True)


GET = require_http_methods(["GET", "HEAD"])
GET_POST = require_http_methods(["GET", "HEAD", "POST"])

manage_offers = _place_view(_list, GET)
manage_offer_create = _place_view(_form_page, GET_POST)
manage_offer_edit = _place_view(_edit, GET_POST)
manage_offer_withdraw = _place_view(_withdraw, require_POST)
manage_offer_restore = _place_view(_restore, require_POST)
manage_offer_delete = _place_view(_delete_page, GET_POST)

manage_network_offers = _network_view(_list, GET)
manage_network_offer_create = _network_view(_form_page, GET_POST)
manage_network_offer_edit = _network_view(_edit, GET_POST)
manage_network_offer_withdraw = _network_view(_withdraw, require_POST)
manage_network_offer_restore = _network_view(_restore, require_POST)
manage_network_offer_delete = _network_view(_delete_page, GET_POST)


urlpatterns = [
    path("gestion/<int:pk>/offres/", manage_offers, name="manage_offers"),
    path("gestion/<int:pk>/offres/nouvelle/", manage_offer_create, name="manage_offer_create"),
    path(
        "gestion/<int:pk>/offres/<int:offer_id>/modifier/",
        manage_offer_edit,
        name="manage_offer_edit",
    ),
    path(
        "gestion/<int:pk>/offres/<int:offer_id>/retirer/",
        manage_offer_withdraw,
        name="manage_offer_withdraw",
    ),
    path(
        "gestion/<int:pk>/offres/<int:offer_id>/remettre-en-vente/",
        manage_offer_restore,
        name="manage_offer_restore",
    ),
    path(
        "gestion/<int:pk>/offres/<int:offer_id>/supprimer/",
        manage_offer_delete,
        name="manage_offer_delete",
    ),
    path("gestion/reseau/offres/", manage_network_offers, name="manage_network_offers"),
    path(
        "gestion/reseau/offres/nouvelle/",
        manage_network_offer_create,
        name="manage_network_offer_create",
    ),
    path(
        "gestion/reseau/offres/<int:offer_id>/modifier/",
        manage_network_offer_edit,
        name="manage_network_offer_edit",
    ),
    path(
        "gestion/reseau/offres/<int:offer_id>/retirer/",
        manage_network_offer_withdraw,
        name="manage_network_offer_withdraw",
    ),
    path(
        "gestion/reseau/offres/<int:offer_id>/remettre-en-vente/",
        manage_network_offer_restore,
        name="manage_network_offer_restore",
    ),
    path(
        "gestion/reseau/offres/<int:offer_id>/supprimer/",
        manage_network_offer_delete,
        name="manage_network_offer_delete",
    ),
]
