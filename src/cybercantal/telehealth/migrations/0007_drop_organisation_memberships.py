"""Take back the organisation memberships telehealth used to give.

Until now services/network.py made site coordinators and assisting professionals members
(role "assisting_professional") of the organisation running each of their sites, and
practitioners members (role "practitioner") of the organisation they consult for, only so that
the booking engine would let them book and cancel the site's cart. The engine took them for
agents of every resource of that organisation: they saw, cancelled and moved its other bookings,
with names and phones. Telehealth now vouches for them inside its own flow
(booking_guard.vouch_inside_flow), so these memberships have no purpose left.

The rule, to delete what telehealth made and nothing given for another reason (the booking,
mediation or core demo, a real role at a hospital or care home, granted before):

- an "assisting_professional" membership of organisation O held by U goes when
  - U coordinates a site whose place O runs, and the membership was created when that site
    was or later (site_create / site_add_coordinator); or
  - U is an assisting professional and O runs one of their sites now, or a site they were
    given by assistant_update (audit rows), or a site of a consultation they assisted, or O
    holds their agenda, and the membership was created when their record was or later
    (assistant_create / assistant_update, which never took memberships back);
- a "practitioner" membership of organisation O held by U goes when U is a practitioner whose
  agenda belongs to O (practitioner_create gave both together) and the membership was created
  when the practitioner was or later.

A membership created before the telehealth record it would hang on was not telehealth's
(get_or_create found it) and stays. One given by an administrator after that moment, on the
very same organisation, cannot be told apart and goes too: give it back in the admin.
One audit row lists what was deleted. Nothing to undo on the way back: the memberships are not
recreated (they were the problem)."""

from django.db import migrations
from django.db.models import Q

ASSISTING = "assisting_professional"
PRACTITIONER = "practitioner"


def _assisting_memberships(apps) -> set[int]:
    Membership = apps.get_model("accounts", "Membership")
    Site = apps.get_model("telehealth", "Site")
    Assistant = apps.get_model("telehealth", "AssistingProfessional")
    Consultation = apps.get_model("telehealth", "Consultation")
    AuditLog = apps.get_model("core", "AuditLog")
    doomed: set[int] = set()
    for site in Site.objects.select_related("place").prefetch_related("coordinators"):
        for user in site.coordinators.all():
            doomed |= set(
                Membership.objects.filter(
                    user=user,
                    organisation_id=site.place.organisation_id,
                    role=ASSISTING,
                    created_at__gte=site.created_at,
                ).values_list("pk", flat=True)
            )
    for assistant in Assistant.objects.select_related("resource"):
        site_ids = set(assistant.sites.values_list("pk", flat=True))
        site_ids |= set(
            Consultation.objects.filter(assistant=assistant).values_list("site_id", flat=True)
        )
        for row in AuditLog.objects.filter(
            action="telehealth.assistant_update",
            target_type="telehealth.assistingprofessional",
            target_id=str(assistant.pk),
        ):
            site_ids |= {pk for pk in (row.data or {}).get("sites", []) if isinstance(pk, int)}
        organisations = set(
            Site.objects.filter(pk__in=site_ids).values_list("place__organisation_id", flat=True)
        )
        if assistant.resource.organisation_id is not None:
            organisations.add(assistant.resource.organisation_id)
        doomed |= set(
            Membership.objects.filter(
                user_id=assistant.user_id,
                organisation_id__in=organisations,
                role=ASSISTING,
                created_at__gte=assistant.created_at,
            ).values_list("pk", flat=True)
        )
    return doomed


def _practitioner_memberships(apps) -> set[int]:
    Membership = apps.get_model("accounts", "Membership")
    Practitioner = apps.get_model("telehealth", "Practitioner")
    condition = Q(pk__in=[])
    for practitioner in Practitioner.objects.select_related("resource"):
        condition |= Q(
            user_id=practitioner.user_id,
            organisation_id=practitioner.resource.organisation_id,
            created_at__gte=practitioner.created_at,
        )
    return set(
        Membership.objects.filter(condition, role=PRACTITIONER).values_list("pk", flat=True)
    )


def drop_organisation_memberships(apps, schema_editor) -> None:
    Membership = apps.get_model("accounts", "Membership")
    AuditLog = apps.get_model("core", "AuditLog")
    doomed = Membership.objects.filter(
        pk__in=_assisting_memberships(apps) | _practitioner_memberships(apps)
    ).order_by("pk")
    rows = [
        [m.pk, m.user_id, m.organisation_id, m.role]
        for m in doomed.only("pk", "user_id", "organisation_id", "role")
    ]
    if not rows:
        return
    doomed.delete()
    AuditLog.objects.create(
        actor=None,
        actor_repr="système",
        action="telehealth.memberships_dropped",
        data={
            "reason": "rights on telehealth come from the site, not from the organisation",
            "memberships": rows,  # [id, user, organisation, role]
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("telehealth", "0006_priority_zones"),
        ("accounts", "0001_initial"),
        ("core", "0004_periodic_job_run"),
    ]

    operations = [
        migrations.RunPython(drop_organisation_memberships, migrations.RunPython.noop),
    ]
