"""What every manager page shares: finding the place in the actor's scope (404 otherwise) and
turning a service's refusal into a French message."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from ..models import TiersLieu
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
