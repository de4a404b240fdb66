"""Withdrawing a téléexpertise (services/expertise.py `expertise_withdraw`, its page): only the
requesting doctor, only while unanswered; the content is erased at once (files after commit),
no act is coded, the audit row holds no clinical content; an answer can no longer be given,
even racing the withdrawal; the time to answer leaves withdrawn requests out."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act, ActTariff, ExpertiseAttachment, ExpertiseRequest
from cybercantal.telehealth.retention import expertise_contents_erase
from cybercantal.telehealth.selectors.acts import expertise_figures
from cybercantal.telehealth.services.expertise import (
    expertise_answer,
    expertise_create,
    expertise_withdraw,
)
from tests.accounts.factories import UserFactory
from tests.concurrency import run_concurrently
from tests.telehealth.factories import (
    make_consultation,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
QUESTION = "Lésion pigmentée du dos, évolutive : avis sur la conduite à tenir ?"
ASKED = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
WITHDRAWN = timezone.make_aware(dt.datetime(2026, 3, 2, 15, 0))
ANSWERED = timezone.make_aware(dt.datetime(2026, 3, 3, 11, 30))


@pytest.fixture
def doctors():
    derm = make_specialty()
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    requester = make_practitioner(specialties=[derm], kind="generaliste")
    consultation = make_consultation(site=site, practitioner=requester, specialty=derm)
    return {
        "derm": derm,
        "coordinator": coordinator,
        "requester": requester,
        "expert": make_practitioner(specialties=[derm]),
        "patient": consultation.patient,
    }


def ask(doctors, *, files=()):
    return expertise_create(
        actor=doctors["requester"].user,
        expert=doctors["expert"],
        specialty=doctors["derm"],
        patient=doctors["patient"],
        question=QUESTION,
        attachments=[SimpleUploadedFile(f"piece-{i}", content) for i, content in enumerate(files)],
        now=ASKED,
    )


def withdraw(doctors, request, *, actor=None, reason="plus_necessaire"):
    return expertise_withdraw(
        actor=actor or doctors["requester"].user, request=request, reason=reason, now=WITHDRAWN
    )


def assert_untouched(request, files: int) -> None:
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.OPEN
    assert request.withdrawn_at is None and request.content_erased_at is None
    assert request.question == QUESTION
    assert request.attachments.count() == files
    assert not AuditLog.objects.filter(action="telehealth.expertise_withdraw").exists()


# --- the service -----------------------------------------------------------------------------


def test_the_requester_withdraws_and_the_content_goes_at_once(
    doctors, django_capture_on_commit_callbacks
):
    request = ask(doctors, files=[PDF, PNG])
    stored = [(a.file.storage, a.file.name) for a in request.attachments.all()]
    assert all(storage.exists(name) for storage, name in stored)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = withdraw(doctors, request, reason="autre_confrere")
    request.refresh_from_db()
    assert withdrawn.pk == request.pk
    assert request.status == ExpertiseRequest.Status.WITHDRAWN
    assert request.withdrawn_at == WITHDRAWN and request.content_erased_at == WITHDRAWN
    assert request.question == "" and request.answer == "" and request.answered_at is None
    assert not ExpertiseAttachment.objects.exists()
    assert not any(storage.exists(name) for storage, name in stored)
    assert not Act.objects.exists()
    audit = AuditLog.objects.get(action="telehealth.expertise_withdraw")
    assert audit.actor == doctors["requester"].user
    assert audit.target_id == str(request.pk)
    assert audit.data == {"reason": "autre_confrere", "attachments_deleted": 2}
    recorded = f"{audit.data} {audit.target_repr}"
    assert "Lésion" not in recorded and doctors["patient"].display_name not in recorded


def test_files_stay_when_the_withdrawal_is_rolled_back(doctors, django_capture_on_commit_callbacks):
    request = ask(doctors, files=[PDF])
    file = request.attachments.get().file
    storage, name = file.storage, file.name
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        withdraw(doctors, request)
        raise RuntimeError("later step failed")
    assert callbacks == []
    assert storage.exists(name)
    assert_untouched(request, files=1)


@pytest.mark.parametrize("who", ["expert", "other_doctor", "coordinator", "staff", "stranger"])
def test_only_the_requesting_doctor_withdraws(doctors, who):
    request = ask(doctors, files=[PDF])
    actor = {
        "expert": lambda: doctors["expert"].user,
        "other_doctor": lambda: make_practitioner(specialties=[doctors["derm"]]).user,
        "coordinator": lambda: doctors["coordinator"],
        "staff": staff_user,
        "stranger": UserFactory,
    }[who]()
    with pytest.raises(BookingForbidden, match="Seul le médecin qui a demandé"):
        withdraw(doctors, request, actor=actor)
    assert_untouched(request, files=1)


def test_anonymous_actor_is_refused(doctors):
    request = ask(doctors)
    with pytest.raises(BookingForbidden):
        expertise_withdraw(actor=None, request=request)
    assert_untouched(request, files=0)


def test_an_answered_request_cannot_be_withdrawn(doctors):
    request = ask(doctors, files=[PDF])
    expertise_answer(actor=doctors["expert"].user, request=request, answer="Avis.", now=ANSWERED)
    # `request` is the caller's stale copy, still OPEN: the service reads it again, locked.
    assert request.status == ExpertiseRequest.Status.OPEN
    with pytest.raises(BookingRuleError, match="déjà répondue"):
        withdraw(doctors, request)
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.ANSWERED and request.answer == "Avis."
    assert request.withdrawn_at is None and request.attachments.count() == 1
    assert Act.objects.count() == 2
    assert not AuditLog.objects.filter(action="telehealth.expertise_withdraw").exists()


def test_a_request_is_withdrawn_once(doctors):
    request = ask(doctors)
    withdraw(doctors, request)
    with pytest.raises(BookingRuleError, match="déjà été retirée"):
        expertise_withdraw(actor=doctors["requester"].user, request=request)
    request.refresh_from_db()
    assert request.withdrawn_at == WITHDRAWN
    assert AuditLog.objects.filter(action="telehealth.expertise_withdraw").count() == 1


@pytest.mark.parametrize("reason", ["Mélanome suspect, adressé au CHU", "autre"])
def test_the_reason_is_a_choice_never_free_text(doctors, reason):
    request = ask(doctors)
    with pytest.raises(BookingRuleError, match="motif de retrait dans la liste"):
        withdraw(doctors, request, reason=reason)
    assert_untouched(request, files=0)


def test_no_reason_is_fine(doctors):
    request = ask(doctors)
    withdraw(doctors, request, reason="")
    assert AuditLog.objects.get(action="telehealth.expertise_withdraw").data["reason"] == ""


def test_the_expert_can_no_longer_answer(doctors):
    request = ask(doctors)
    withdraw(doctors, request)
    with pytest.raises(BookingRuleError, match="retirée par le médecin requérant"):
        expertise_answer(actor=doctors["expert"].user, request=request, answer="Avis.")
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.WITHDRAWN and request.answer == ""
    assert not Act.objects.exists()


def test_the_time_to_answer_leaves_withdrawn_requests_out(doctors):
    answered = ask(doctors)
    expertise_answer(actor=doctors["expert"].user, request=answered, answer="A.", now=ANSWERED)
    withdraw(doctors, ask(doctors))
    ask(doctors)
    figures = expertise_figures()
    assert (figures.total, figures.answered, figures.open, figures.withdrawn) == (3, 1, 1, 1)
    assert figures.median_hours == figures.mean_hours == 26.5


def test_retention_erases_a_withdrawn_request_that_kept_its_content(doctors):
    """Requests withdrawn before withdrawing erased anything (older data, demo)."""
    legacy = ask(doctors, files=[PDF])
    ExpertiseRequest.objects.filter(pk=legacy.pk).update(
        status=ExpertiseRequest.Status.WITHDRAWN, withdrawn_at=WITHDRAWN
    )
    withdraw(doctors, ask(doctors))  # already erased: not counted again
    open_request = ask(doctors)
    assert expertise_contents_erase(now=ANSWERED) == (1, 1)
    legacy.refresh_from_db()
    assert legacy.question == "" and legacy.content_erased_at == ANSWERED
    open_request.refresh_from_db()
    assert open_request.question == QUESTION and open_request.content_erased_at is None


# --- the pages -------------------------------------------------------------------------------


def url(name, request, *args):
    return reverse(f"telehealth:{name}", args=[request.pk, *args])


def test_withdrawing_through_the_page(client, doctors, django_capture_on_commit_callbacks):
    request = ask(doctors, files=[PDF])
    attachment = request.attachments.get()
    client.force_login(doctors["requester"].user)
    page = client.get(url("expertise_detail", request)).content.decode()
    assert "Retirer la demande" in page and url("expertise_withdraw", request) in page
    assert "Erreur de saisie" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("expertise_withdraw", request), {"reason": "erreur_saisie"})
    assert response.status_code == 302
    assert response["Location"] == url("expertise_detail", request)
    page = client.get(response["Location"]).content.decode()
    assert "Demande retirée. La question et les pièces jointes ont été effacées." in page
    assert "Retirée le" in page and "Demande retirée par le médecin requérant." in page
    assert QUESTION not in page and url("expertise_withdraw", request) not in page
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.WITHDRAWN

    client.force_login(doctors["expert"].user)
    page = client.get(url("expertise_detail", request)).content.decode()
    assert "Retirée le" in page and "Demande retirée par le médecin requérant." in page
    assert url("expertise_answer", request) not in page
    assert url("expertise_attachment", request, attachment.pk) not in page
    listing = client.get(reverse("telehealth:expertise_list")).content.decode()
    assert "Retirée le" in listing and "durée de conservation" not in listing
    gone = client.get(url("expertise_attachment", request, attachment.pk))
    assert gone.status_code == 410 and "retirée par le médecin requérant" in gone.content.decode()
    response = client.post(url("expertise_answer", request), {"answer": "Trop tard"})
    assert response.status_code == 422
    assert "retirée par le médecin requérant : plus de réponse" in response.content.decode()
    assert not Act.objects.exists()


def test_the_expert_sees_no_withdraw_button_and_is_refused(client, doctors):
    request = ask(doctors)
    client.force_login(doctors["expert"].user)
    page = client.get(url("expertise_detail", request)).content.decode()
    assert url("expertise_withdraw", request) not in page and "Envoyer la réponse" in page
    response = client.post(url("expertise_withdraw", request), {"reason": ""})
    assert response.status_code == 403
    assert_untouched(request, files=0)


@pytest.mark.parametrize("who", ["other_doctor", "coordinator", "staff", "stranger"])
def test_outsiders_get_a_404(client, doctors, who):
    request = ask(doctors)
    user = {
        "other_doctor": lambda: make_practitioner().user,
        "coordinator": lambda: doctors["coordinator"],
        "staff": staff_user,
        "stranger": UserFactory,
    }[who]()
    client.force_login(user)
    assert client.post(url("expertise_withdraw", request), {"reason": ""}).status_code == 404
    assert_untouched(request, files=0)


def test_the_page_refuses_get_anonymous_and_bad_input(client, doctors):
    request = ask(doctors)
    target = url("expertise_withdraw", request)
    response = client.post(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(doctors["requester"].user)
    assert client.get(target).status_code == 405
    response = client.post(target, {"reason": "Mélanome"})
    assert response.status_code == 422
    assert "Choisissez un motif dans la liste." in response.content.decode()
    missing = reverse("telehealth:expertise_withdraw", args=[request.pk + 1000])
    assert client.post(missing).status_code == 404
    assert_untouched(request, files=0)


def test_an_answered_request_cannot_be_withdrawn_from_the_page(client, doctors):
    request = ask(doctors)
    client.force_login(doctors["requester"].user)
    expertise_answer(actor=doctors["expert"].user, request=request, answer="Avis.", now=ANSWERED)
    page = client.get(url("expertise_detail", request)).content.decode()
    assert url("expertise_withdraw", request) not in page
    # A form opened before the answer arrived, sent after it.
    response = client.post(url("expertise_withdraw", request), {"reason": ""})
    page = response.content.decode()
    assert response.status_code == 422 and "déjà répondue" in page and "Avis." in page
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.ANSWERED


def test_staff_figures_count_withdrawn_requests_apart(client, doctors):
    withdraw(doctors, ask(doctors))
    client.force_login(staff_user())
    page = client.get(reverse("telehealth:expertise_list")).content.decode()
    assert "Retirées par le demandeur" in page
    assert "<dt>Retirées par le demandeur</dt><dd>1</dd>" in page


# --- racing an answer (PostgreSQL) -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_and_an_answer_racing_never_both_win(doctors):
    # A transactional test may follow another that flushed the tariffs migration 0002 loads.
    for code, role, amount in (("TE2", "expert", "20.00"), ("RQD", "requerant", "10.00")):
        ActTariff.objects.get_or_create(
            code=code,
            valid_from=dt.date(2022, 4, 1),
            defaults={"label": code, "role": role, "amount": Decimal(amount)},
        )
    for _round in range(5):
        # The yearly caps (4 TE2 / RQD per doctor and patient) must not decide a round: only
        # the race does.
        Act.objects.all().delete()
        request = ask(doctors)
        outcomes = run_concurrently(
            lambda i, request=request: (
                withdraw(doctors, request)
                if i == 0
                else expertise_answer(actor=doctors["expert"].user, request=request, answer="A.")
            ),
            2,
        )
        failures = [o for o in outcomes if isinstance(o, Exception)]
        assert len(failures) == 1, outcomes
        assert isinstance(failures[0], BookingRuleError), repr(failures[0])
        request.refresh_from_db()
        acts = Act.objects.filter(expertise=request).count()
        if request.status == ExpertiseRequest.Status.WITHDRAWN:
            assert request.answer == "" and request.answered_at is None and acts == 0
            assert "retirée" in failures[0].message
        else:
            assert request.status == ExpertiseRequest.Status.ANSWERED
            assert request.withdrawn_at is None and acts == 2, [
                getattr(o, "not_coded", o) for o in outcomes
            ]
            assert "déjà répondue" in failures[0].message
