"""Reads of a manager's members pages: the members of a place they manage (see
today.place_members: a pass sold at or for the place, a valid network pass, a booking there)
with what the place knows of them — its passes and their credit, arrivals and bookings there.

A manager sees what happened at their place only: a member's passes bought elsewhere, their
arrivals at other places and their bookings elsewhere stay out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from cybercantal.booking.models import Booking

from ..models import CheckIn, CreditMovement, MemberProfile, Pass, TiersLieu
from .passes import _with_balance
from .today import managed_place_get, place_members

PAGE_SIZE = 50
RECENT = 20


def place_member_page(*, actor, tiers_lieu: TiersLieu, query: str = "", page=1) -> Page | None:
    """One page of the place's members, by name, each with `visits_here` (arrivals at the
    place this year) and `last_visit_here`; filtered by every word of `query` (name, e-mail,
    phone). None when `actor` does not manage the place."""
    if managed_place_get(actor=actor, pk=tiers_lieu.pk) is None:
        return None
    year_start = dt.date(timezone.localdate().year, 1, 1)
    here = CheckIn.objects.filter(tiers_lieu=tiers_lieu, member=OuterRef("pk"))
    members = place_members(tiers_lieu=tiers_lieu).annotate(
        visits_here=Subquery(
            here.filter(day__gte=year_start)
            .order_by()
            .values("member")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        last_visit_here=Subquery(
            here.order_by().values("member").annotate(last=Max("day")).values("last")
        ),
    )
    for word in (query or "").split()[:5]:
        members = members.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    members = members.select_related("coworking_profile", "home_commune").order_by(
        "last_name", "first_name", "pk"
    )
    return Paginator(members, PAGE_SIZE).get_page(page)


@dataclass
class MemberSheet:
    member: object
    profile: MemberProfile | None
    passes: list[Pass]
    movements: list[CreditMovement]
    check_ins: list[CheckIn]
    visits_this_year: int
    bookings: list[Booking]


def place_member_sheet(*, actor, tiers_lieu: TiersLieu, member_id) -> MemberSheet | None:
    """What the place knows of one of its members; None when `actor` does not manage the place
    or the person is not a member of it."""
    from .today import place_member_get

    member = place_member_get(actor=actor, tiers_lieu=tiers_lieu, member_id=member_id)
    if member is None:
        return None
    passes = list(
        _with_balance(
            Pass.objects.filter(member=member)
            .filter(Q(sold_at=tiers_lieu) | Q(offer__tiers_lieu=tiers_lieu))
            .select_related("offer", "funder")
        ).order_by("-valid_from", "-pk")
    )
    movements = list(
        CreditMovement.objects.filter(pass_account__in=[p.pk for p in passes])
        .select_related("pass_account__offer", "booking", "check_in")
        .order_by("-at", "-pk")[:RECENT]
    )
    here = CheckIn.objects.filter(tiers_lieu=tiers_lieu, member=member)
    bookings = list(
        Booking.objects.filter(user=member, place_id=tiers_lieu.place_id)
        .select_related("service")
        .order_by("-start")[:RECENT]
    )
    return MemberSheet(
        member=member,
        profile=MemberProfile.objects.filter(user=member).first(),
        passes=passes,
        movements=movements,
        check_ins=list(here.select_related("pass_used__offer").order_by("-day")[:RECENT]),
        visits_this_year=here.filter(day__year=timezone.localdate().year).count(),
        bookings=bookings,
    )
