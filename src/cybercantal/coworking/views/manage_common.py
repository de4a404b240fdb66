"""What every manager page shares: finding the place in the actor's scope (404 otherwise) and
turning a service's refusal into a French message."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from cybercantal.booking.errors import BookingError

from ..models import TiersLieu
from ..selectors.manage import account_by_contact
from ..selectors.today import managed_place_get


def managed_place(request: HttpRequest, pk: int) -> TiersLieu:
    """The tiers-lieu `pk` if the logged-in person manages it; 404 otherwise (whether it
    exists or not is not said)."""
    tiers_lieu = managed_place_get(actor=request.user, pk=pk)
    if tiers_lieu is None:
        raise Http404(_("Ce tiers-lieu n'existe pas, ou vous n'en êtes pas gestionnaire."))
    return tiers_lieu


def member_name(member) -> str:
    return member.get_full_name() or member.get_username()


def contact_account(request: HttpRequest, tiers_lieu: TiersLieu, contact: str, *, field="contact"):
    """The account whose e-mail or mobile number is exactly `contact` (a sale, a rental at
    the desk); a ValidationError on `field` otherwise, which submit() shows in the form."""
    member = account_by_contact(actor=request.user, tiers_lieu=tiers_lieu, contact=contact)
    if member is None:
        raise forms.ValidationError(
            {
                field: _(
                    "Aucun compte ne porte exactement cette adresse ou ce numéro : "
                    "vérifiez-le, ou créez le compte de la personne."
                )
            }
        )
    return member


def submit(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict], str],
    *,
    then: str,
) -> tuple[HttpResponse | None, int]:
    """A manager's form posted: call `action(cleaned_data)`, which runs the service and returns
    the success message. Returns (the redirect to `then`, 302) on success; otherwise (None, the
    status to render the form again with): 200 on GET, 400 for an invalid form or a
    ValidationError raised by `action` (shown on its fields), the service's own status for a
    refusal, shown in the form as its French message."""
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        message = action(form.cleaned_data)
    except forms.ValidationError as exc:
        form.add_error(None, exc)
        return None, 400
    except BookingError as exc:
        form.add_error(None, exc.message)
        return None, exc.status_code
    messages.success(request, message)
    return redirect(then), 302
