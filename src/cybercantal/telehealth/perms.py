"""Who sees and does what in telehealth. A consultation is seen by its participants (the
practitioner, the assisting professional), the person who booked it, the coordinators of its
site and authorised staff (the Département's telehealth team: TERRITORY_STAFF_ROLES); nobody
else, whatever their role. Reads go through these functions so that the UI, the API and the
booking engine's own pages (booking_guard.py) refuse the same people.

Rights come from the site itself (coordinating it, assisting on it), never from working for
the organisation that runs it: a group running several care homes gives each its own team,
and the staff of one must not reach the residents of another."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cybercantal.booking.perms import TERRITORY_STAFF_ROLES

from .models import Consultation, Site


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_telehealth_staff(user) -> bool:
    return _authenticated(user) and user.has_role(*TERRITORY_STAFF_ROLES)


def coordinated_site_ids(user) -> set[int]:
    if not _authenticated(user):
        return set()
    return set(user.telehealth_coordinated_sites.values_list("pk", flat=True))


def assisted_site_ids(user) -> set[int]:
    if not _authenticated(user) or not hasattr(user, "telehealth_assistant"):
        return set()
    return set(user.telehealth_assistant.sites.values_list("pk", flat=True))


def sites_for(user) -> QuerySet[Site]:
    """The sites whose consultations and figures the user may see."""
    if is_telehealth_staff(user):
        return Site.objects.all()
    return Site.objects.filter(pk__in=_bookable_site_ids(user))


def may_book_at(user, site: Site) -> bool:
    """Book a teleconsultation at `site`: its coordinators, its assisting professionals and
    staff."""
    if not _authenticated(user):
        return False
    return is_telehealth_staff(user) or site.pk in _bookable_site_ids(user)


def consultations_for(user) -> QuerySet[Consultation]:
    if not _authenticated(user):
        return Consultation.objects.none()
    if is_telehealth_staff(user):
        return Consultation.objects.all()
    return Consultation.objects.filter(
        Q(practitioner__user=user)
        | Q(assistant__user=user)
        | Q(requested_by=user, site_id__in=_bookable_site_ids(user))
        | Q(site__coordinators=user)
    ).distinct()


def _bookable_site_ids(user) -> set[int]:
    """The sites where the user books as one of their team (staff aside)."""
    return coordinated_site_ids(user) | assisted_site_ids(user)


def _is_booker(user, consultation: Consultation) -> bool:
    """The person who booked it, while they still work on its site: a nurse who booked for a
    colleague finds what she booked; someone who left the site no longer does."""
    return consultation.requested_by_id == user.pk and consultation.site_id in _bookable_site_ids(
        user
    )


def may_see_consultation(user, consultation: Consultation) -> bool:
    if not _authenticated(user):
        return False
    if is_telehealth_staff(user):
        return True
    return _is_booker(user, consultation) or may_run_session(user, consultation)


def may_cancel_consultation(user, consultation: Consultation) -> bool:
    """Cancel a planned consultation: whoever runs it, and the person who booked it (while
    they work on its site)."""
    return _authenticated(user) and (
        _is_booker(user, consultation) or may_run_session(user, consultation)
    )


def may_run_session(user, consultation: Consultation) -> bool:
    """Fill the checklist, close the session, log incidents: the participants and the site's
    coordinators (staff see but do not run sessions)."""
    if not _authenticated(user):
        return False
    return (
        consultation.practitioner.user_id == user.pk
        or (consultation.assistant is not None and consultation.assistant.user_id == user.pk)
        or consultation.site.coordinators.filter(pk=user.pk).exists()
    )


def may_correct_closing(user, consultation: Consultation) -> bool:
    """Correct how a closed session was recorded (held, incident, not held; the channel): the
    site's coordinators, who answer for its figures, and the Département's telehealth staff.
    Not the participants: a correction changes what was billed and counted, so it is made by
    someone who oversees the site, and it is audited."""
    if not _authenticated(user):
        return False
    return is_telehealth_staff(user) or consultation.site.coordinators.filter(pk=user.pk).exists()
