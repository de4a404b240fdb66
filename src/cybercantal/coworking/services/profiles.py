"""The member's profile in the network, created the first time it is needed (their check-in
card). The PIN is set by a place's manager (services of the check-in pages), never here."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from cybercantal.core.audit import audit_log

from ..models import MemberProfile

CODE_ATTEMPTS = 5


def member_profile_ensure(*, user) -> MemberProfile:
    """The member's profile: the existing one, or a new one joined today with a random,
    unguessable check-in code (secrets.token_urlsafe(16)) and no PIN. Safe when two requests
    race: the second one reads the profile the first one created."""
    profile = MemberProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                profile = MemberProfile.objects.create(
                    user=user,
                    joined_on=timezone.localdate(),
                    checkin_code=secrets.token_urlsafe(16),
                )
                audit_log(actor=user, action="coworking.member_profile_create", target=profile)
                return profile
        except IntegrityError:
            existing = MemberProfile.objects.filter(user=user).first()
            if existing is not None:
                return existing
            # A code already taken (astronomically unlikely): draw another one.
    raise RuntimeError("Impossible de créer un code de carte unique.")
