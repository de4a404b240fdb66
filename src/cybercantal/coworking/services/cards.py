"""Members' check-in cards: the personal QR code (MemberProfile.checkin_code) and the 6-digit
PIN typed on a place's tablet.

The PIN is never stored: only HMAC-SHA256 of it, keyed by a key derived from SECRET_KEY
(`pin_digest`), so that a copy of the database does not reveal the PINs, and unique so that a
PIN identifies one member. Changing SECRET_KEY invalidates every PIN (managers give new ones).
"""

from __future__ import annotations

import hmac
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from ..errors import CoworkingError, CoworkingForbidden
from ..models import MemberProfile, TiersLieu
from ..perms import is_place_manager
from ..selectors.today import is_member_of_place

PIN_LENGTH = 6
PIN_ATTEMPTS = 50
_PIN_KEY_SALT = "cybercantal.coworking.member_pin"


def pin_digest(pin: str) -> str:
    """HMAC-SHA256 of a PIN (hex, 64 characters), keyed from SECRET_KEY."""
    return salted_hmac(_PIN_KEY_SALT, pin, algorithm="sha256").hexdigest()


def pin_is_well_formed(pin: str | None) -> bool:
    return isinstance(pin, str) and len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()


def _new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


def _profile_for(member) -> MemberProfile:
    """The member's profile, created (with a random card code) when they have none yet."""
    profile, created = MemberProfile.objects.select_for_update().get_or_create(
        user=member,
        defaults={
            "joined_on": timezone.localdate(),
            "checkin_code": secrets.token_urlsafe(16),
        },
    )
    if created:
        audit_log(actor=None, action="coworking.member_profile_create", target=profile)
    return profile


def member_card_pin_set(*, actor, member, tiers_lieu: TiersLieu) -> str:
    """A manager of `tiers_lieu` gives `member` (someone with a pass or a booking there) a new
    random PIN and gets it back, to tell the member once: it cannot be read again. The former
    PIN stops working. A PIN already held by another member is never given (the unique
    constraint decides; another PIN is drawn). Creates the member's profile if missing."""
    if not is_place_manager(actor, tiers_lieu):
        raise CoworkingForbidden(_("Seul un gestionnaire du tiers-lieu peut donner un code PIN."))
    if member is None or not member.is_active or getattr(member, "erased_at", None):
        raise CoworkingError(_("Ce compte n'est plus actif."))
    if not is_member_of_place(member=member, tiers_lieu=tiers_lieu):
        raise CoworkingForbidden(_("Cette personne n'a ni pass ni réservation dans ce tiers-lieu."))
    with transaction.atomic():
        profile = _profile_for(member)
        for _attempt in range(PIN_ATTEMPTS):
            pin = _new_pin()
            digest = pin_digest(pin)
            if MemberProfile.objects.filter(pin_digest=digest).exclude(pk=profile.pk).exists():
                continue
            try:
                with transaction.atomic():
                    MemberProfile.objects.filter(pk=profile.pk).update(pin_digest=digest)
            except IntegrityError:
                continue  # taken at the same moment by another member
            break
        else:  # pragma: no cover - a million PINs for a network of a few thousand members
            raise CoworkingError(_("Aucun code PIN libre n'a été trouvé : réessayez."))
        audit_log(
            actor=actor,
            action="coworking.member_pin_set",
            target=profile,
            data={"member": member.pk, "tiers_lieu": tiers_lieu.pk},
        )
    return pin


def member_by_card(*, code: str | None = None, pin: str | None = None):
    """The active member whose card holds `code` (the QR code's content, or the code printed
    under it) or whose PIN is `pin`; None when nothing matches. Exactly one of them."""
    if (code is None) == (pin is None):
        return None
    if pin is not None:
        if not pin_is_well_formed(pin):
            return None
        expected = pin_digest(pin)
        profile = MemberProfile.objects.filter(pin_digest=expected).select_related("user").first()
        if profile is None or not hmac.compare_digest(profile.pin_digest, expected):
            return None
    else:
        code = (code or "").strip()
        if not code or len(code) > 40:
            return None
        profile = MemberProfile.objects.filter(checkin_code=code).select_related("user").first()
        if profile is None or not hmac.compare_digest(profile.checkin_code, code):
            return None
    user = profile.user
    if not user.is_active or getattr(user, "erased_at", None):
        return None
    return user
