"""Mandates through their services: the creation rules and their French refusals (which write
nothing), revocation per area, the journal of uses (append-only in the ORM and in the
database), and the attestation hash."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.mediation.models import Beneficiary, Mandate, MandateArea, MandateUse
from cybercantal.mediation.models.mandates import MandateJournalImmutable
from cybercantal.mediation.selectors.mandates import mandate_check, mandate_get, mandate_list
from cybercantal.mediation.services.mandates import (
    CONSENT_FILE_MAX_BYTES,
    mandate_create,
    mandate_end,
    mandate_hash,
    mandate_revoke,
    mandate_revoke_area,
    mandate_use,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def verified(user):
    """As django-otp's middleware leaves request.user after a second-factor check."""
    user.is_verified = lambda: True
    return user


def mediator_of(organisation, *, is_verified=True):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    if is_verified:
        verified(user)
    return user


def person_of(organisation, **changes):
    fields = {"organisation": organisation, "first_name": "Jeanne", "consent_at": timezone.now()}
    return Beneficiary.objects.create(**(fields | changes))


@pytest.fixture
def structure():
    return OrganisationFactory(name="France Services de Murat")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def person(structure):
    return person_of(structure)


def create(actor, organisation, beneficiary, **changes):
    fields = {
        "areas": ["argent", "logement"],
        "duration": "1m",
        "consent_method": "papier",
        "consent_file": SimpleUploadedFile("accord.pdf", PDF, content_type="application/pdf"),
    }
    return mandate_create(
        actor=actor, organisation=organisation, beneficiary=beneficiary, **(fields | changes)
    )


def _counts():
    return (
        Mandate.objects.count(),
        MandateArea.objects.count(),
        MandateUse.objects.count(),
        AuditLog.objects.filter(action__startswith="mediation.mandate").count(),
    )


# --- Creation ---------------------------------------------------------------------------------


def test_a_mediator_creates_a_mandate_with_a_scanned_consent(mediator, structure, person):
    mandate = create(mediator, structure, person)

    today = timezone.localdate()
    assert mandate.starts_on == today
    assert mandate.ends_on == mandate_end(today, "1m")
    assert sorted(a.area for a in mandate.areas.all()) == ["argent", "logement"]
    assert mandate.consent_file.name.endswith(".pdf")
    assert "Jeanne" not in mandate.consent_file.name
    mandate.consent_file.open()
    assert mandate.consent_file.read() == PDF
    assert len(mandate.attestation_hash) == 64
    assert mandate.attestation_hash == mandate_hash(mandate)
    assert mandate.status == Mandate.Status.ACTIVE
    assert AuditLog.objects.filter(
        action="mediation.mandate_create", target_id=str(mandate.pk)
    ).exists()


def test_a_remote_consent_is_confirmed_and_described(mediator, structure, person):
    mandate = create(
        mediator,
        structure,
        person,
        consent_method="distance",
        consent_file=None,
        remote_consent_confirmed=True,
        consent_note="Par téléphone, domaines et durée relus",
        duration="1j",
    )
    assert mandate.consent_method == "distance"
    assert not mandate.consent_file
    assert mandate.ends_on == mandate.starts_on


@pytest.mark.parametrize(
    ("start", "duration", "end"),
    [
        (dt.date(2026, 3, 15), "1j", dt.date(2026, 3, 15)),
        (dt.date(2026, 3, 15), "1m", dt.date(2026, 4, 14)),
        (dt.date(2026, 1, 31), "1m", dt.date(2026, 2, 28)),
        (dt.date(2026, 9, 1), "6m", dt.date(2027, 2, 28)),
        (dt.date(2026, 3, 15), "1a", dt.date(2027, 3, 14)),
        (dt.date(2028, 2, 29), "1a", dt.date(2029, 2, 28)),
    ],
)
def test_durations_end_the_day_before_the_same_date(start, duration, end):
    assert mandate_end(start, duration) == end


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"areas": []}, "au moins un domaine"),
        ({"areas": ["impots-inconnus"]}, "Domaine de démarches inconnu"),
        ({"duration": "2a"}, "Choisissez une durée"),
        ({"consent_method": ""}, "consentement"),
        ({"consent_file": None}, "Joignez le consentement"),
        (
            {"consent_file": SimpleUploadedFile("accord.pdf", b"GIF89a" + b"\x00" * 20)},
            "PDF, JPEG ou PNG",
        ),
        (
            {"consent_file": SimpleUploadedFile("vide.pdf", b"")},
            "vide",
        ),
        (
            {
                "consent_file": SimpleUploadedFile(
                    "gros.pdf", PDF + b"\x00" * (CONSENT_FILE_MAX_BYTES - len(PDF) + 1)
                )
            },
            "5 Mo",
        ),
        ({"consent_method": "distance", "consent_file": None}, "accord à distance"),
        (
            {
                "consent_method": "distance",
                "consent_file": None,
                "remote_consent_confirmed": True,
            },
            "comment l'accord",
        ),
        ({"starts_on": dt.date.today() - dt.timedelta(days=1)}, "passé"),
    ],
)
def test_creation_refusals_are_french_and_write_nothing(
    mediator, structure, person, changes, message
):
    before = _counts()
    with pytest.raises(BookingRuleError, match=message):
        create(mediator, structure, person, **changes)
    assert _counts() == before


def test_a_png_or_jpeg_scan_is_accepted_by_its_content_not_its_name(mediator, structure, person):
    mandate = create(
        mediator,
        structure,
        person,
        consent_file=SimpleUploadedFile("photo.pdf", PNG, content_type="application/pdf"),
    )
    assert mandate.consent_file.name.endswith(".png")


def test_a_mandate_needs_a_named_person_of_the_structure(mediator, structure):
    anonymous = person_of(structure, is_anonymous=True, first_name="")
    with pytest.raises(BookingRuleError, match="personne nommée"):
        create(mediator, structure, anonymous)
    elsewhere = person_of(OrganisationFactory())
    with pytest.raises(BookingRuleError, match="pas suivie par votre structure"):
        create(mediator, structure, elsewhere)
    assert Mandate.objects.count() == 0


def test_only_the_structures_verified_mediators_create_mandates(structure, person):
    resident = verified(UserFactory())
    other_mediator = mediator_of(OrganisationFactory())
    unverified = mediator_of(structure, is_verified=False)
    for actor, message in (
        (resident, "Seuls les médiateurs"),
        (other_mediator, "Seuls les médiateurs"),
        (unverified, "double authentification"),
    ):
        with pytest.raises(BookingForbidden, match=message):
            create(actor, structure, person)
    assert Mandate.objects.count() == 0
    # The grant, for the same structure and person.
    assert create(mediator_of(structure), structure, person).pk


def test_mediators_see_their_structures_mandates_only(mediator, structure, person):
    mandate = create(mediator, structure, person)
    other = mediator_of(OrganisationFactory())
    colleague = mediator_of(structure)
    unverified_colleague = mediator_of(structure, is_verified=False)

    assert list(mandate_list(actor=colleague)) == [mandate]
    assert mandate_get(actor=other, mandate_id=mandate.pk) is None
    assert list(mandate_list(actor=other)) == []
    assert list(mandate_list(actor=unverified_colleague)) == []
    with pytest.raises(BookingForbidden):
        mandate_use(actor=other, mandate=mandate, area="argent", procedure="Impôts")
    with pytest.raises(BookingForbidden):
        mandate_revoke_area(actor=other, mandate=mandate, area="argent")
    assert MandateUse.objects.count() == 0
    assert not MandateArea.objects.filter(revoked_at__isnull=False).exists()


# --- Revocation and uses ----------------------------------------------------------------------


def test_a_use_is_written_to_the_journal(mediator, structure, person):
    mandate = create(mediator, structure, person)
    use = mandate_use(
        actor=mediator, mandate=mandate, area="argent", procedure="  Déclaration de revenus "
    )
    assert use.procedure == "Déclaration de revenus"
    assert use.used_by == mediator
    assert list(mandate.uses.all()) == [use]
    assert AuditLog.objects.filter(action="mediation.mandate_use").count() == 1


def test_revoking_an_area_refuses_uses_in_that_area_only(mediator, structure, person):
    mandate = create(mediator, structure, person)
    mandate_revoke_area(actor=mediator, mandate=mandate, area="argent")

    before = _counts()
    with pytest.raises(BookingRuleError, match="révoqué le mandat pour le domaine"):
        mandate_use(actor=mediator, mandate=mandate, area="argent", procedure="Impôts")
    assert _counts() == before

    mandate_use(actor=mediator, mandate=mandate, area="logement", procedure="Demande d'APL")
    assert list(MandateUse.objects.values_list("area", flat=True)) == ["logement"]
    assert mandate.status == Mandate.Status.ACTIVE

    with pytest.raises(BookingRuleError, match="déjà révoqué"):
        mandate_revoke_area(actor=mediator, mandate=mandate, area="argent")


def test_revoking_the_whole_mandate_refuses_every_use(mediator, structure, person):
    mandate = create(mediator, structure, person)
    mandate_revoke(actor=mediator, mandate=mandate)
    assert mandate.status == Mandate.Status.REVOKED
    for area in ("argent", "logement"):
        with pytest.raises(BookingRuleError, match="révoqué"):
            mandate_use(actor=mediator, mandate=mandate, area=area, procedure="Impôts")
    with pytest.raises(BookingRuleError, match="déjà entièrement révoqué"):
        mandate_revoke(actor=mediator, mandate=mandate)
    assert MandateUse.objects.count() == 0


def test_a_use_outside_the_mandates_areas_is_refused(mediator, structure, person):
    mandate = create(mediator, structure, person)
    with pytest.raises(BookingRuleError, match="ne fait pas partie du mandat"):
        mandate_use(actor=mediator, mandate=mandate, area="justice", procedure="Aide juridique")
    with pytest.raises(BookingRuleError, match="Indiquez la démarche"):
        mandate_use(actor=mediator, mandate=mandate, area="argent", procedure="   ")
    assert MandateUse.objects.count() == 0


def test_a_mandate_past_its_end_date_is_refused_and_nothing_changes(mediator, structure, person):
    mandate = create(mediator, structure, person, duration="1j")
    today = timezone.localdate()
    Mandate.objects.filter(pk=mandate.pk).update(
        starts_on=today - dt.timedelta(days=3), ends_on=today - dt.timedelta(days=1)
    )
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.EXPIRED

    before = _counts()
    with pytest.raises(BookingRuleError, match="a pris fin le"):
        mandate_use(actor=mediator, mandate=mandate, area="argent", procedure="Impôts")
    with pytest.raises(BookingRuleError, match="a pris fin le"):
        mandate_revoke_area(actor=mediator, mandate=mandate, area="argent")
    assert _counts() == before
    assert not MandateArea.objects.filter(revoked_at__isnull=False).exists()


def test_a_mandate_not_yet_started_is_refused(mediator, structure, person):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    mandate = create(mediator, structure, person, starts_on=tomorrow)
    assert mandate.status == Mandate.Status.NOT_STARTED
    with pytest.raises(BookingRuleError, match="ne prend effet que le"):
        mandate_use(actor=mediator, mandate=mandate, area="argent", procedure="Impôts")
    assert MandateUse.objects.count() == 0


# --- The journal is append-only -----------------------------------------------------------


@pytest.fixture
def use(mediator, structure, person):
    mandate = create(mediator, structure, person)
    return mandate_use(actor=mediator, mandate=mandate, area="argent", procedure="Impôts")


def test_the_orm_refuses_to_edit_or_delete_a_journal_entry(use):
    use.procedure = "Autre chose"
    with pytest.raises(MandateJournalImmutable, match="ne se modifie pas"):
        use.save()
    with pytest.raises(MandateJournalImmutable):
        use.delete()
    with pytest.raises(MandateJournalImmutable):
        MandateUse.objects.filter(pk=use.pk).update(procedure="Autre chose")
    with pytest.raises(MandateJournalImmutable):
        MandateUse.objects.filter(pk=use.pk).delete()
    assert MandateUse.objects.get(pk=use.pk).procedure == "Impôts"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE mediation_mandateuse SET procedure = 'Autre chose' WHERE id = %s",
        "UPDATE mediation_mandateuse SET area = 'justice' WHERE id = %s",
        "UPDATE mediation_mandateuse SET at = '2020-01-01 00:00:00' WHERE id = %s",
        "DELETE FROM mediation_mandateuse WHERE id = %s",
    ],
)
def test_the_database_refuses_to_edit_or_delete_a_journal_entry(use, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [use.pk])
    row = MandateUse.objects.get(pk=use.pk)
    assert (row.procedure, row.area, row.at) == ("Impôts", "argent", use.at)


def test_the_database_lets_an_erased_account_leave_the_journal(use, mediator):
    # ON DELETE SET NULL of the user's link is the one change allowed; the name stays.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mediation_mandateuse SET used_by_id = NULL WHERE id = %s", [use.pk])
    row = MandateUse.objects.get(pk=use.pk)
    assert row.used_by_id is None
    assert row.used_by_repr == str(mediator)
    other = UserFactory()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE mediation_mandateuse SET used_by_id = %s WHERE id = %s",
            [other.pk, use.pk],
        )


# --- The attestation hash -----------------------------------------------------------------


def test_the_hash_changes_when_any_content_changes(mediator, structure, person):
    mandate = create(mediator, structure, person)
    original = mandate_hash(mandate)
    assert original == mandate.attestation_hash

    def changed(apply):
        fresh = Mandate.objects.select_related("organisation", "beneficiary").get(pk=mandate.pk)
        codes = apply(fresh)
        return mandate_hash(fresh, area_codes=codes)

    variants = {
        "structure": lambda m: setattr(m.organisation, "name", "Autre structure"),
        "person": lambda m: setattr(m.beneficiary, "first_name", "Jean"),
        "starts": lambda m: setattr(m, "starts_on", m.starts_on - dt.timedelta(days=1)),
        "ends": lambda m: setattr(m, "ends_on", m.ends_on + dt.timedelta(days=1)),
        "duration": lambda m: setattr(m, "duration", "1a"),
        "consent": lambda m: setattr(m, "consent_method", "distance"),
        "scan": lambda m: setattr(m, "consent_file_sha256", "0" * 64),
        "note": lambda m: setattr(m, "consent_note", "ajout"),
        "recorded": lambda m: setattr(
            m, "consent_recorded_at", m.consent_recorded_at + dt.timedelta(seconds=1)
        ),
        "reference": lambda m: setattr(m, "reference", "MDT-AAAAAAAAAA"),
    }
    hashes = {name: changed(apply) for name, apply in variants.items()}
    hashes["areas"] = mandate_hash(mandate, area_codes=["argent"])
    hashes["more areas"] = mandate_hash(mandate, area_codes=["argent", "logement", "justice"])
    for name, value in hashes.items():
        assert value != original, name
    assert len(set(hashes.values())) == len(hashes)
    # Same content, same hash (the order of areas does not matter).
    assert mandate_hash(mandate, area_codes=["logement", "argent"]) == original


def test_the_public_check_matches_the_recorded_mandate_only(mediator, structure, person):
    mandate = create(mediator, structure, person)
    ok = mandate_check(reference=mandate.reference, attestation_hash=mandate.attestation_hash)
    assert ok.matches and ok.status == Mandate.Status.ACTIVE and ok.ends_on == mandate.ends_on

    wrong = "0" * 64
    assert not mandate_check(reference=mandate.reference, attestation_hash=wrong).matches
    assert not mandate_check(
        reference="MDT-2222222222", attestation_hash=mandate.attestation_hash
    ).matches
    # The record changed behind the services' back: it no longer matches its attestation.
    Mandate.objects.filter(pk=mandate.pk).update(ends_on=mandate.ends_on + dt.timedelta(days=30))
    assert not mandate_check(
        reference=mandate.reference, attestation_hash=mandate.attestation_hash
    ).matches


def test_the_public_check_says_when_a_mandate_is_revoked(mediator, structure, person):
    mandate = create(mediator, structure, person)
    mandate_revoke_area(actor=mediator, mandate=mandate, area="argent")
    partly = mandate_check(reference=mandate.reference, attestation_hash=mandate.attestation_hash)
    assert partly.matches and partly.status == Mandate.Status.ACTIVE and partly.partly_revoked
    mandate_revoke(actor=mediator, mandate=mandate)
    revoked = mandate_check(
        reference=mandate.reference.lower(), attestation_hash=mandate.attestation_hash.upper()
    )
    assert revoked.matches and revoked.status == Mandate.Status.REVOKED
