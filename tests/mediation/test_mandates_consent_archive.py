"""Mandates: viewing the signed consent scan (checked against its hash, audited, behind the
two-factor gate), the upload's checks, the public check of an archived or expired mandate, and
the refusals (past end, revoked area, the append-only journal in the database, another
structure's mediator, a session without its second factor)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.mediation.models import Beneficiary, Mandate, MandateArea, MandateUse
from cybercantal.mediation.models.mandates import MandateJournalImmutable
from cybercantal.mediation.retention import ERASED_SCAN, RetentionReport, retention_apply
from cybercantal.mediation.selectors.mandates import mandate_check
from cybercantal.mediation.services.mandates import (
    CONSENT_FILE_MAX_BYTES,
    mandate_archive_seal,
    mandate_create,
    mandate_revoke_area,
    mandate_use,
)
from tests.accounts.factories import (
    MembershipFactory,
    UserFactory,
    force_login_verified,
    totp_device,
)
from tests.territory.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2027, 6, 15, 10, 0, tzinfo=PARIS)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
STORAGE = Mandate._meta.get_field("consent_file").storage


class Clock:
    def __init__(self):
        self.now = NOW

    def at(self, year, month, day, hour=10):
        self.now = dt.datetime(year, month, day, hour, tzinfo=PARIS)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now.astimezone(dt.UTC))
    return clock


def verified(user):
    user.is_verified = lambda: True  # as django-otp leaves request.user after the 2FA check
    return user


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def structure():
    return OrganisationFactory(name="France Services de Riom-ès-Montagnes")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def person(structure):
    return Beneficiary.objects.create(
        organisation=structure, first_name="Fernande", consent_at=timezone.now()
    )


def paper_mandate(mediator, structure, person, *, content=PDF, name="accord.pdf", **changes):
    fields = {
        "areas": ["argent", "logement"],
        "duration": "1m",
        "consent_method": "papier",
        "consent_file": SimpleUploadedFile(name, content),
    }
    return mandate_create(
        actor=verified(mediator),
        organisation=structure,
        beneficiary=person,
        **(fields | changes),
    )


@pytest.fixture
def mandate(mediator, structure, person):
    return paper_mandate(mediator, structure, person)


@pytest.fixture
def remote_mandate(mediator, structure, person):
    return mandate_create(
        actor=verified(mediator),
        organisation=structure,
        beneficiary=person,
        areas=["argent"],
        duration="1m",
        consent_method="distance",
        remote_consent_confirmed=True,
        consent_note="Par téléphone",
    )


def consent_url(mandate):
    return reverse("mediation:mandate_consent", args=[mandate.pk])


def audits(action):
    return AuditLog.objects.filter(action=action).count()


def body(response):
    return b"".join(response.streaming_content)


def stored_scans():
    def walk(directory):
        try:
            folders, files = STORAGE.listdir(directory)
        except FileNotFoundError:
            return 0
        return len(files) + sum(walk(f"{directory}/{folder}") for folder in folders)

    return walk("mediation/mandats")


# --- Viewing the consent scan -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type", "extension"),
    [
        (PDF, "accord.pdf", "application/pdf", "pdf"),
        (PNG, "photo.png", "image/png", "png"),
        (JPEG, "photo.jpeg", "image/jpeg", "jpg"),
    ],
)
def test_a_verified_mediator_sees_the_scan_inline_and_it_is_audited(
    client, mediator, structure, person, content, name, content_type, extension
):
    mandate = paper_mandate(mediator, structure, person, content=content, name=name)
    colleague = mediator_of(structure)
    force_login_verified(client, colleague)

    response = client.get(consent_url(mandate))

    assert response.status_code == 200
    assert body(response) == content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'inline; filename="consentement-{mandate.reference}.{extension}"'
    )
    assert "Fernande" not in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    row = AuditLog.objects.get(action="mediation.mandate_consent_view")
    assert (row.actor, row.target_id) == (colleague, str(mandate.pk))
    # Each viewing is written.
    client.get(consent_url(mandate))
    assert audits("mediation.mandate_consent_view") == 2


def test_the_detail_page_links_the_scan_of_a_paper_consent_only(
    client, mediator, mandate, remote_mandate
):
    force_login_verified(client, mediator)
    page = client.get(reverse("mediation:mandate_detail", args=[mandate.pk])).content.decode()
    assert f'href="{consent_url(mandate)}"' in page
    assert "Voir le consentement signé (scan)" in page
    page = client.get(
        reverse("mediation:mandate_detail", args=[remote_mandate.pk])
    ).content.decode()
    assert consent_url(remote_mandate) not in page
    response = client.get(consent_url(remote_mandate))
    assert response.status_code == 404
    assert "pas de consentement numérisé" in response.content.decode()
    assert audits("mediation.mandate_consent_view") == 0


def _replace_file(mandate, content):
    name = mandate.consent_file.name
    STORAGE.delete(name)
    assert STORAGE.save(name, ContentFile(content)) == name


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda m: _replace_file(m, PDF + b"% une page de plus\n"), id="content"),
        pytest.param(lambda m: _replace_file(m, PNG), id="other-type"),
        pytest.param(
            lambda m: _replace_file(m, PDF + b"\x00" * CONSENT_FILE_MAX_BYTES), id="too-large"
        ),
        pytest.param(
            lambda m: Mandate.objects.filter(pk=m.pk).update(consent_file_sha256="0" * 64),
            id="recorded-hash",
        ),
    ],
)
def test_an_altered_scan_is_refused_in_french_and_audited(client, mediator, mandate, alter):
    alter(mandate)
    force_login_verified(client, mediator)

    response = client.get(consent_url(mandate))

    page = response.content.decode()
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert "a été altéré depuis son dépôt" in page
    assert "%PDF" not in page
    assert audits("mediation.mandate_consent_altered") == 1
    assert audits("mediation.mandate_consent_view") == 0


def test_a_missing_scan_is_refused_and_audited(client, mediator, mandate):
    STORAGE.delete(mandate.consent_file.name)
    force_login_verified(client, mediator)
    response = client.get(consent_url(mandate))
    assert response.status_code == 409
    assert "introuvable" in response.content.decode()
    assert audits("mediation.mandate_consent_missing") == 1
    assert audits("mediation.mandate_consent_view") == 0


def test_the_scan_is_behind_the_two_factor_gate(client, mediator, mandate):
    client.force_login(mediator)
    response = client.get(consent_url(mandate))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_setup"))
    assert "next=%2Fmediation%2Fmandats%2F" in response.url

    totp_device(mediator)
    response = client.get(consent_url(mandate))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_verify"))
    assert audits("mediation.mandate_consent_view") == 0

    # The grant, once the second factor is checked.
    force_login_verified(client, mediator)
    assert client.get(consent_url(mandate)).status_code == 200


def test_a_resident_and_an_anonymous_visitor_do_not_see_the_scan(client, mandate):
    response = client.get(consent_url(mandate))
    assert response.status_code == 302
    assert "two_factor" not in response.url and "next=" in response.url
    force_login_verified(client, UserFactory())
    assert client.get(consent_url(mandate)).status_code == 403
    assert audits("mediation.mandate_consent_view") == 0


# --- The upload's checks -------------------------------------------------------------------


def _new_mandate_data(person, **changes):
    data = {
        "beneficiary": person.pk,
        "areas": ["papiers"],
        "duration": "1m",
        "starts_on": timezone.localdate().isoformat(),
        "consent_method": "papier",
        "consent_file": SimpleUploadedFile("accord.pdf", PDF),
    } | changes
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Joignez le consentement signé"),
        (SimpleUploadedFile("accord.pdf", b"GIF89a" + b"\x00" * 20), "PDF, JPEG ou PNG"),
        (SimpleUploadedFile("accord.pdf", b"<html><script>alert(1)</script>"), "PDF, JPEG ou PNG"),
        (SimpleUploadedFile("accord.exe", PDF), "(.pdf, .jpg ou .png)"),
        (SimpleUploadedFile("accord", PDF), "(.pdf, .jpg ou .png)"),
        (SimpleUploadedFile("vide.pdf", b""), "est vide"),
        (
            SimpleUploadedFile("gros.pdf", PDF + b"\x00" * (CONSENT_FILE_MAX_BYTES - len(PDF) + 1)),
            "dépasse 5 Mo",
        ),
    ],
)
def test_the_form_refuses_a_scan_that_is_not_a_pdf_jpeg_or_png(
    client, mediator, person, upload, message
):
    force_login_verified(client, mediator)
    before = stored_scans()
    response = client.post(
        reverse("mediation:mandate_new"), _new_mandate_data(person, consent_file=upload)
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    assert 'href="#id_consent_file"' in page  # the summary points to the field
    assert Mandate.objects.count() == 0
    assert stored_scans() == before


def test_the_form_accepts_a_png_or_jpeg_by_its_content(client, mediator, person):
    force_login_verified(client, mediator)
    for name, content, extension in (("scan.png", PNG, ".png"), ("scan.JPG", JPEG, ".jpg")):
        response = client.post(
            reverse("mediation:mandate_new"),
            _new_mandate_data(person, consent_file=SimpleUploadedFile(name, content)),
        )
        assert response.status_code == 302
        mandate = Mandate.objects.latest("pk")
        assert mandate.consent_file.name.endswith(extension)
        assert client.get(consent_url(mandate)).status_code == 200


# --- Archiving at the end of retention, and the public check --------------------------------


def _check_page(client, mandate, attestation_hash=None):
    response = client.post(
        reverse("mediation:mandate_verify"),
        {
            "reference": mandate.reference,
            "attestation_hash": attestation_hash or mandate.attestation_hash,
        },
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def old_mandate(clock, structure, mediator):
    """Created on 1 June 2020 for one year (ends 31 May 2021): past its six years on NOW."""
    clock.at(2020, 6, 1)
    person = Beneficiary.objects.create(
        organisation=structure, first_name="Fernande", consent_at=timezone.now()
    )
    mandate = paper_mandate(
        mediator, structure, person, duration="1a", consent_note="Signé avec sa fille Odile"
    )
    clock.now = NOW
    return mandate


def test_an_archived_mandates_attestation_is_recognised_without_personal_data(
    client, clock, old_mandate, django_capture_on_commit_callbacks
):
    scan = old_mandate.consent_file.name
    with django_capture_on_commit_callbacks(execute=True):
        report = retention_apply()
    assert report == RetentionReport(beneficiaries=1, mandates=1, scans_deleted=1)

    mandate = Mandate.objects.get(pk=old_mandate.pk)
    assert mandate.archived_at == NOW
    assert mandate.archive_seal == mandate_archive_seal(mandate)
    assert (mandate.consent_note, mandate.consent_file.name, mandate.consent_file_sha256) == (
        "",
        ERASED_SCAN,
        "",
    )
    assert not STORAGE.exists(scan)
    assert mandate.beneficiary.first_name == ""
    # What stays holds neither the person's name nor the consent note.
    kept = str(Mandate.objects.filter(pk=mandate.pk).values().get())
    assert "Fernande" not in kept and "Odile" not in kept
    assert mandate.attestation_hash == old_mandate.attestation_hash

    result = mandate_check(reference=mandate.reference, attestation_hash=mandate.attestation_hash)
    assert result.matches
    assert (result.archived_on, result.status) == (dt.date(2027, 6, 15), Mandate.Status.EXPIRED)
    page = _check_page(client, mandate)
    assert "correspondait à un mandat aujourd'hui archivé" in page
    assert "effacées le 15 juin 2027" in page
    assert "du 1 juin 2020 au 31 mai 2021" in page
    assert "ne correspond à aucun mandat" not in page
    for private in ("Fernande", "Odile", "Riom"):
        assert private not in page
    # A wrong hash is still no match.
    assert "ne correspond à aucun mandat" in _check_page(client, mandate, "f" * 64)

    # A second run changes nothing, the archiving time included.
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply() == RetentionReport()
    assert Mandate.objects.get(pk=mandate.pk).archived_at == NOW


def test_an_archived_mandates_page_says_so_and_its_scan_is_gone(client, clock, old_mandate):
    retention_apply()
    mediator = old_mandate.created_by
    force_login_verified(client, mediator)
    page = client.get(reverse("mediation:mandate_detail", args=[old_mandate.pk])).content.decode()
    assert "Mandat archivé le 15 juin 2027" in page
    assert "(données effacées)" in page
    assert consent_url(old_mandate) not in page
    assert reverse("mediation:mandate_attestation", args=[old_mandate.pk]) not in page
    response = client.get(consent_url(old_mandate))
    assert response.status_code == 410
    assert "effacé à l&#x27;archivage" in response.content.decode()
    response = client.get(reverse("mediation:mandate_attestation", args=[old_mandate.pk]))
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="mediation.mandate_attestation_print").count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"ends_on": dt.date(2021, 12, 31)},
        {"starts_on": dt.date(2020, 1, 1)},
        {"reference": "MDT-2222222222"},
        {"archived_at": NOW + dt.timedelta(days=1)},
        {"archive_seal": ""},
    ],
)
def test_an_archive_changed_afterwards_no_longer_matches(client, clock, old_mandate, change):
    retention_apply()
    Mandate.objects.filter(pk=old_mandate.pk).update(**change)
    mandate = Mandate.objects.get(pk=old_mandate.pk)
    assert not mandate_check(
        reference=mandate.reference, attestation_hash=mandate.attestation_hash
    ).matches
    assert "ne correspond à aucun mandat" in _check_page(client, mandate)


def test_a_record_changed_before_archiving_is_archived_without_a_seal(clock, old_mandate):
    Mandate.objects.filter(pk=old_mandate.pk).update(consent_note="Note réécrite")
    assert retention_apply().mandates == 1
    mandate = Mandate.objects.get(pk=old_mandate.pk)
    assert (mandate.archived_at, mandate.archive_seal, mandate.consent_note) == (NOW, "", "")
    assert not mandate_check(
        reference=mandate.reference, attestation_hash=mandate.attestation_hash
    ).matches


def test_a_mandate_past_its_end_is_reported_expired_not_archived(
    client, clock, structure, mediator, person
):
    clock.at(2027, 1, 6)
    mandate = paper_mandate(mediator, structure, person, duration="1m")  # ends 5 February
    clock.now = NOW
    assert retention_apply().mandates == 0
    result = mandate_check(reference=mandate.reference, attestation_hash=mandate.attestation_hash)
    assert result.matches
    assert (result.status, result.archived_on) == (Mandate.Status.EXPIRED, None)
    page = _check_page(client, mandate)
    assert "le mandat a pris fin le 5 février 2027" in page
    assert "archivé" not in page
    # The day it ends, it is still valid.
    clock.at(2027, 2, 5)
    assert "mandat valide jusqu" in _check_page(client, mandate)


# --- Refusals: past end, revoked area ------------------------------------------------------


def _journal_and_audit():
    return (
        MandateUse.objects.count(),
        AuditLog.objects.filter(action__in=["mediation.mandate_use"]).count(),
        MandateArea.objects.filter(revoked_at__isnull=False).count(),
    )


def test_using_a_mandate_past_its_end_is_refused_in_french_and_writes_nothing(
    client, clock, structure, mediator, person
):
    clock.at(2027, 1, 6)
    mandate = paper_mandate(mediator, structure, person, duration="1m")
    clock.now = NOW
    force_login_verified(client, mediator)
    before = _journal_and_audit()

    response = client.post(
        reverse("mediation:mandate_use", args=[mandate.pk]),
        {"area": "argent", "procedure": "Déclaration de revenus"},
    )
    assert response.status_code == 422
    assert "Ce mandat a pris fin le 5 février 2027" in response.content.decode()
    response = client.post(
        reverse("mediation:mandate_revoke", args=[mandate.pk]), {"area": "argent"}, follow=True
    )
    assert "a pris fin le" in response.content.decode()
    assert _journal_and_audit() == before


def test_using_a_revoked_area_is_refused_in_french_and_writes_nothing(client, mediator, mandate):
    mandate_revoke_area(actor=verified(mediator), mandate=mandate, area="argent")
    force_login_verified(client, mediator)
    before = _journal_and_audit()
    response = client.post(
        reverse("mediation:mandate_use", args=[mandate.pk]),
        {"area": "argent", "procedure": "Déclaration de revenus"},
    )
    assert response.status_code == 422
    assert "La personne a révoqué le mandat pour le domaine" in response.content.decode()
    assert _journal_and_audit() == before
    # The area still in force is used (the grant).
    response = client.post(
        reverse("mediation:mandate_use", args=[mandate.pk]),
        {"area": "logement", "procedure": "Demande d'APL"},
    )
    assert response.status_code == 302
    assert list(MandateUse.objects.values_list("area", flat=True)) == ["logement"]


# --- The journal cannot be changed, in the ORM or in the database --------------------------


@pytest.fixture
def use(mediator, mandate):
    return mandate_use(actor=verified(mediator), mandate=mandate, area="argent", procedure="Impôts")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE mediation_mandateuse SET procedure = 'Autre chose' WHERE id = %s",
        "UPDATE mediation_mandateuse SET used_by_repr = 'Quelqu''un' WHERE id = %s",
        "DELETE FROM mediation_mandateuse WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete_of_the_journal(use, sql):
    # On SQLite by default, on PostgreSQL when DATABASE_URL points at it (as in CI).
    assert connection.vendor in ("sqlite", "postgresql")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [use.pk])
    row = MandateUse.objects.get(pk=use.pk)
    assert (row.procedure, row.used_by_repr) == ("Impôts", use.used_by_repr)
    with pytest.raises(MandateJournalImmutable):
        MandateUse.objects.filter(pk=use.pk).delete()


JOURNAL_TRIGGERS = {
    "sqlite": ["mediation_mandateuse_no_delete", "mediation_mandateuse_no_update"],
    "postgresql": ["mediation_mandateuse_frozen"],
}


def _journal_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'mediation_mandateuse' ORDER BY name"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'mediation_mandateuse'::regclass "
                "AND NOT tgisinternal ORDER BY tgname"
            )
        return [name for (name,) in cursor.fetchall()]


def test_the_journal_triggers_are_installed_and_refuse_a_bulk_delete(use):
    assert _journal_triggers() == JOURNAL_TRIGGERS[connection.vendor]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM mediation_mandateuse")
    assert MandateUse.objects.filter(pk=use.pk).exists()


# --- Another structure, no second factor -----------------------------------------------------


def _mandate_urls(mandate):
    return {
        "detail": ("get", reverse("mediation:mandate_detail", args=[mandate.pk]), {}),
        "attestation": ("get", reverse("mediation:mandate_attestation", args=[mandate.pk]), {}),
        "consent": ("get", consent_url(mandate), {}),
        "use": (
            "post",
            reverse("mediation:mandate_use", args=[mandate.pk]),
            {"area": "argent", "procedure": "Impôts"},
        ),
        "revoke": (
            "post",
            reverse("mediation:mandate_revoke", args=[mandate.pk]),
            {"area": "tous"},
        ),
    }


def _state():
    return (
        MandateUse.objects.count(),
        MandateArea.objects.filter(revoked_at__isnull=False).count(),
        AuditLog.objects.filter(action__startswith="mediation.mandate_")
        .exclude(action="mediation.mandate_create")
        .count(),
    )


def test_another_structures_mediator_gets_404_everywhere_and_nothing_is_written(
    client, mediator, mandate
):
    force_login_verified(client, mediator_of(OrganisationFactory()))
    before = _state()
    for name, (method, url, data) in _mandate_urls(mandate).items():
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, name
        assert "Fernande" not in response.content.decode(), name
    assert _state() == before
    # The same requests by the structure's own mediator go through (the grant).
    force_login_verified(client, mediator)
    statuses = {
        name: getattr(client, method)(url, data).status_code
        for name, (method, url, data) in _mandate_urls(mandate).items()
    }
    assert statuses == {
        "detail": 200,
        "attestation": 200,
        "consent": 200,
        "use": 302,
        "revoke": 302,
    }


@pytest.mark.parametrize("has_device", [False, True])
def test_a_mediator_without_the_second_factor_is_sent_to_it(client, mediator, mandate, has_device):
    if has_device:
        totp_device(mediator)
    client.force_login(mediator)
    before = _state()
    step = reverse("accounts:two_factor_verify" if has_device else "accounts:two_factor_setup")
    for name, (method, url, data) in _mandate_urls(mandate).items():
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, name
        assert response.url.startswith(step + "?next="), name
    assert _state() == before
