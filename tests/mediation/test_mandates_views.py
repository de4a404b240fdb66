"""Mandate pages: two-factor authentication required, the wall between structures (404), the
forms' French refusals, the printable attestation and the public check of its hash."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cybercantal.core.models import AuditLog
from cybercantal.mediation.models import Beneficiary, Mandate, MandateArea, MandateUse
from cybercantal.mediation.services.mandates import mandate_create
from tests.accounts.factories import (
    MembershipFactory,
    UserFactory,
    force_login_verified,
    totp_device,
)
from tests.core.pdf_text import text as pdf_text
from tests.territory.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def mediator_of(organisation):
    user = UserFactory()
    MembershipFactory(user=user, organisation=organisation, role="mediator")
    return user


@pytest.fixture
def structure():
    return OrganisationFactory(name="Espace numérique d'Aurillac")


@pytest.fixture
def mediator(structure):
    return mediator_of(structure)


@pytest.fixture
def person(structure):
    return Beneficiary.objects.create(
        organisation=structure, first_name="Marcelle", consent_at=timezone.now()
    )


@pytest.fixture
def mandate(mediator, structure, person):
    mediator.is_verified = lambda: True
    return mandate_create(
        actor=mediator,
        organisation=structure,
        beneficiary=person,
        areas=["argent", "logement"],
        duration="6m",
        consent_method="distance",
        remote_consent_confirmed=True,
        consent_note="Par téléphone",
    )


def detail_urls(mandate):
    return [
        reverse("mediation:mandate_detail", args=[mandate.pk]),
        reverse("mediation:mandate_attestation", args=[mandate.pk]),
    ]


# --- Two-factor authentication -----------------------------------------------------------


def test_an_unverified_mediator_is_sent_to_set_up_two_factor(client, mediator, mandate):
    client.force_login(mediator)
    for url in [
        reverse("mediation:mandates"),
        reverse("mediation:mandate_new"),
        *detail_urls(mandate),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("accounts:two_factor_setup")), url
        assert "next=" in response.url
    response = client.get(reverse("mediation:mandates"), follow=True)
    assert "confirmez d&#x27;abord votre identité" in response.content.decode()


def test_a_mediator_with_a_device_is_sent_to_verify_it_then_comes_back(client, mediator, mandate):
    totp_device(mediator)
    client.force_login(mediator)
    url = reverse("mediation:mandate_detail", args=[mandate.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_verify"))
    assert "next=%2Fmediation%2Fmandats%2F" in response.url


def test_an_unverified_session_cannot_record_a_use(client, mediator, mandate):
    client.force_login(mediator)
    response = client.post(
        reverse("mediation:mandate_use", args=[mandate.pk]),
        {"area": "argent", "procedure": "Impôts"},
    )
    assert response.status_code == 302
    assert MandateUse.objects.count() == 0


def test_a_verified_mediator_reaches_the_mandates(client, mediator, mandate):
    force_login_verified(client, mediator)
    response = client.get(reverse("mediation:mandates"))
    assert response.status_code == 200
    assert mandate.reference in response.content.decode()
    response = client.get(reverse("mediation:mandate_detail", args=[mandate.pk]))
    assert response.status_code == 200
    assert mandate.attestation_hash in response.content.decode()


def test_a_resident_is_refused_even_verified(client, mandate):
    resident = UserFactory()
    force_login_verified(client, resident)
    assert client.get(reverse("mediation:mandates")).status_code == 403
    assert client.get(detail_urls(mandate)[0]).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, mandate):
    response = client.get(detail_urls(mandate)[0])
    assert response.status_code == 302
    assert "next=" in response.url and "two_factor" not in response.url


# --- The wall between structures ----------------------------------------------------------


def test_another_structures_mediator_gets_404_and_changes_nothing(client, mandate):
    other = mediator_of(OrganisationFactory())
    force_login_verified(client, other)
    for url in detail_urls(mandate):
        assert client.get(url).status_code == 404, url
    assert mandate.reference not in client.get(reverse("mediation:mandates")).content.decode()
    response = client.post(
        reverse("mediation:mandate_use", args=[mandate.pk]),
        {"area": "argent", "procedure": "Impôts"},
    )
    assert response.status_code == 404
    response = client.post(reverse("mediation:mandate_revoke", args=[mandate.pk]), {"area": "tous"})
    assert response.status_code == 404
    assert MandateUse.objects.count() == 0
    assert not MandateArea.objects.filter(revoked_at__isnull=False).exists()


# --- Creating, using, revoking through the pages ------------------------------------------


def test_a_mediator_creates_a_mandate_with_a_scan(client, mediator, person):
    force_login_verified(client, mediator)
    response = client.post(
        reverse("mediation:mandate_new"),
        {
            "beneficiary": person.pk,
            "areas": ["papiers", "transports"],
            "duration": "1a",
            "starts_on": timezone.localdate().isoformat(),
            "consent_method": "papier",
            "consent_file": SimpleUploadedFile("accord.pdf", PDF),
        },
    )
    mandate = Mandate.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("mediation:mandate_detail", args=[mandate.pk])
    assert sorted(mandate.areas.values_list("area", flat=True)) == ["papiers", "transports"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"areas": []}, "Choisissez au moins un domaine"),
        ({"consent_file": None}, "Joignez le consentement"),
        ({"consent_file": SimpleUploadedFile("accord.pdf", b"MZ\x90\x00 exe")}, "PDF, JPEG ou PNG"),
    ],
)
def test_the_creation_form_refuses_in_french(client, mediator, person, changes, message):
    force_login_verified(client, mediator)
    data = {
        "beneficiary": person.pk,
        "areas": ["papiers"],
        "duration": "1m",
        "starts_on": timezone.localdate().isoformat(),
        "consent_method": "papier",
        "consent_file": SimpleUploadedFile("accord.pdf", PDF),
    } | changes
    data = {key: value for key, value in data.items() if value is not None}
    response = client.post(reverse("mediation:mandate_new"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Mandate.objects.count() == 0


def test_another_structures_person_cannot_be_chosen(client, mediator):
    stranger = Beneficiary.objects.create(organisation=OrganisationFactory(), first_name="Paul")
    force_login_verified(client, mediator)
    response = client.post(
        reverse("mediation:mandate_new"),
        {
            "beneficiary": stranger.pk,
            "areas": ["papiers"],
            "duration": "1m",
            "starts_on": timezone.localdate().isoformat(),
            "consent_method": "papier",
            "consent_file": SimpleUploadedFile("accord.pdf", PDF),
        },
    )
    assert response.status_code == 422
    assert "pas suivie par votre structure" in response.content.decode()
    assert Mandate.objects.count() == 0


def test_revoke_an_area_then_a_use_there_is_refused_on_the_page(client, mediator, mandate):
    force_login_verified(client, mediator)
    client.post(reverse("mediation:mandate_revoke", args=[mandate.pk]), {"area": "argent"})
    assert MandateArea.objects.get(mandate=mandate, area="argent").revoked_at is not None
    use_url = reverse("mediation:mandate_use", args=[mandate.pk])
    response = client.post(use_url, {"area": "argent", "procedure": "Impôts"})
    assert response.status_code == 422
    assert "révoqué le mandat" in response.content.decode()
    response = client.post(use_url, {"area": "logement", "procedure": "Demande d'APL"})
    assert response.status_code == 302
    assert list(MandateUse.objects.values_list("procedure", flat=True)) == ["Demande d'APL"]


# --- The attestation and its public check -------------------------------------------------


def test_the_attestation_prints_the_mandate_and_its_hash(client, mediator, mandate):
    force_login_verified(client, mediator)
    response = client.get(reverse("mediation:mandate_attestation", args=[mandate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        mandate.attestation_hash,
        mandate.reference,
        "Marcelle",
        "Espace numérique d'Aurillac",
        "Argent, impôts et budget",
        "Logement",
        "Recueilli à distance",
    ):
        assert expected in text, expected
    assert "/mediation/mandats/verifier/" in text.replace("\n", "")
    assert AuditLog.objects.filter(action="mediation.mandate_attestation_print").count() == 1


def _check(client, reference, attestation_hash):
    return client.post(
        reverse("mediation:mandate_verify"),
        {"reference": reference, "attestation_hash": attestation_hash},
    )


def test_the_public_check_confirms_a_valid_attestation_without_personal_data(client, mandate):
    response = _check(client, mandate.reference, mandate.attestation_hash)
    page = response.content.decode()
    assert response.status_code == 200
    assert "mandat valide jusqu&#x27;au" in page or "mandat valide jusqu'au" in page
    for private in ("Marcelle", "Espace numérique", "Logement", "Argent"):
        assert private not in page


def test_the_public_check_refuses_a_wrong_hash_and_reports_a_revocation(client, mediator, mandate):
    response = _check(client, mandate.reference, "f" * 64)
    assert "ne correspond à aucun mandat" in response.content.decode()
    force_login_verified(client, mediator)
    client.post(reverse("mediation:mandate_revoke", args=[mandate.pk]), {"area": "tous"})
    client.logout()
    response = _check(client, mandate.reference, mandate.attestation_hash)
    assert "le mandat a été révoqué" in response.content.decode()


def test_the_public_check_is_rate_limited(client, mandate):
    for _attempt in range(5):
        assert _check(client, mandate.reference, "0" * 64).status_code == 200
    response = _check(client, mandate.reference, mandate.attestation_hash)
    assert response.status_code == 429
    assert "Trop de vérifications" in response.content.decode()
    assert "valide jusqu" not in response.content.decode()
