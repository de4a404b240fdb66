"""The member's profile in the network, created the first time it is needed (their check-in
card), and what they say of where they came from and their usual commute. The PIN is set by a
place's manager (services of the check-in pages), never here."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


# Codes of the French départements: metropolitan 01–95 (Corsica as 2A and 2B), overseas.
DEPARTEMENT_CODES = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)
ABROAD = "99"  # the INSEE code for "abroad"


def member_profile_update(
    *,
    actor,
    member,
    previous_departement: str,
    usual_workplace: str,
    usual_commute_km: int | None,
    commute_mode: str,
    tiers_lieu=None,
) -> MemberProfile:
    """Record where the member came from and the trip a day at a tiers-lieu saves them (the
    newcomers and CO₂ figures). The member themselves, or a manager of `tiers_lieu` where the
    person is a member, recording what the person says at the desk."""
    from ..errors import CoworkingForbidden, CoworkingRuleError
    from ..perms import is_place_manager
    from ..selectors.today import is_member_of_place

    if actor != member and not (
        tiers_lieu is not None
        and is_place_manager(actor, tiers_lieu)
        and is_member_of_place(member=member, tiers_lieu=tiers_lieu)
    ):
        raise CoworkingForbidden(
            _("Seuls la personne et les gestionnaires de ses tiers-lieux modifient son profil.")
        )
    code = (previous_departement or "").strip().upper()
    if code and code not in DEPARTEMENT_CODES and code != ABROAD:
        raise CoworkingRuleError(
            _("« %(code)s » n'est pas un numéro de département (par exemple 15, 63, 2A, 974).")
            % {"code": code[:10]}
        )
    if commute_mode not in MemberProfile.CommuteMode.values:
        raise CoworkingRuleError(_("Mode de transport inconnu."))
    if usual_commute_km is not None and not 0 <= usual_commute_km <= 1000:
        raise CoworkingRuleError(_("Le trajet habituel doit être compris entre 0 et 1 000 km."))
    with transaction.atomic():
        profile = member_profile_ensure(user=member)
        profile = MemberProfile.objects.select_for_update().get(pk=profile.pk)
        profile.previous_departement = code
        profile.usual_workplace = (usual_workplace or "").strip()[:200]
        profile.usual_commute_km = usual_commute_km
        profile.commute_mode = commute_mode
        profile.save(
            update_fields=[
                "previous_departement",
                "usual_workplace",
                "usual_commute_km",
                "commute_mode",
            ]
        )
        audit_log(actor=actor, action="coworking.member_profile_update", target=profile)
    return profile
