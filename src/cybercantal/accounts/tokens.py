"""Personal API tokens.

A token is a random secret ("cc_" followed by 43 URL-safe characters, 256 bits of entropy)
shown once to its owner. Only its SHA-256 is stored, with a short prefix so that the owner can
recognise it in a list. A plain hash is enough (no slow password hash): the secret is random and
long, so it cannot be guessed from its hash, and a fast hash keeps authentication to one indexed
lookup per request.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cybercantal.core.audit import audit_log

from .models import ApiToken, User
from .perms import (
    api_token_needs_second_factor,
    can_create_api_token,
    can_revoke_api_token,
    is_authenticated,
)

TOKEN_MARKER = "cc_"  # noqa: S105 - a public marker, not a secret
# Length of the stored prefix: the marker and 7 random characters, enough to tell tokens apart
# in a list, far too few to help guessing the other 36.
PREFIX_LENGTH = 10
NAME_MAX_LENGTH = 100
# A genuine token is 46 characters; anything much longer is refused before hashing.
RAW_MAX_LENGTH = 200
# last_used_at is a hint for the owner ("used 3 days ago"), not a log: writing it on every
# request would turn every read of the API into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(
            _("Donnez un nom au jeton (par exemple l'outil qui l'utilisera)."), code="required"
        )
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("Le nom du jeton doit faire %(max)d caractères au plus."),
            params={"max": NAME_MAX_LENGTH},
            code="max_length",
        )
    return name


def api_token_create(
    *,
    actor,
    name: str,
    second_factor_verified: bool = False,
    ip_address: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the actor. Returns the token and its raw secret, which is shown once
    and never stored. Raises ValidationError (bad name) or PermissionDenied: no active
    account, or a platform administrator without `second_factor_verified`.

    `second_factor_verified` is the caller's word that the actor proved their second factor
    in this session (the token page passes `user.is_verified()`), or that an operator with
    shell access decided to mint an administrator's token (the command's --allow-admin). Why
    it is needed: see accounts.perms, "Personal API tokens"."""
    if not can_create_api_token(actor):
        raise PermissionDenied(_("Seul un compte actif peut créer un jeton d'API."))
    if api_token_needs_second_factor(actor) and not second_factor_verified:
        raise PermissionDenied(
            _(
                "Un administrateur de la plateforme ne peut créer un jeton d'API qu'après "
                "la double authentification."
            )
        )
    name = _clean_name(name)
    raw = TOKEN_MARKER + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=raw[:PREFIX_LENGTH], key_hash=hash_token(raw)
        )
        audit_log(
            actor=actor,
            action="api_token.create",
            target=token,
            data={"name": token.name, "prefix": token.prefix},
            ip_address=ip_address,
        )
    return token, raw


def api_token_revoke(*, actor, token_id: int, ip_address: str | None = None) -> None:
    """Revoke a token. Its owner may, and so may a platform administrator; anyone else gets
    PermissionDenied. Unknown id: ApiToken.DoesNotExist. Revoking twice changes nothing."""
    if not is_authenticated(actor):
        raise PermissionDenied(_("Authentification requise."))
    with transaction.atomic():
        # Locked so that two concurrent revocations write one audit row, not two.
        token = (
            ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token_id)
        )
        if not can_revoke_api_token(actor, token):
            raise PermissionDenied(_("Vous ne pouvez révoquer que vos propres jetons."))
        if token.revoked_at is not None:
            return
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(
            actor=actor,
            action="api_token.revoke",
            target=token,
            data={"owner": token.user.username, "prefix": token.prefix},
            ip_address=ip_address,
        )


def api_token_list(*, actor) -> QuerySet[ApiToken]:
    """The actor's own tokens, revoked ones included (newest first); nothing for anonymous."""
    if not is_authenticated(actor):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=actor).order_by("-created_at", "-pk")


def api_token_authenticate(raw: str) -> User | None:
    """The active owner of a valid, unrevoked token, or None.

    The lookup is by hash: what the database compares is a digest the caller cannot steer
    character by character, so its timing reveals nothing about stored secrets. (No second,
    constant-time comparison follows: it would compare the digest with the very value the
    database just matched it against.)"""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_MARKER) or len(raw) > RAW_MAX_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    user = token.user
    if not user.is_active or user.erased_at is not None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional update: of many concurrent requests, at most one writes per minute.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return user
