"""Téléexpertise (services/expertise.py, views/expertise.py): asking with attachments checked
by their first bytes, answering (TE2 and RQD coded at the day's tariffs, within the caps), the
time to answer; only the two doctors see a request (404 for anyone else, staff included, who
get aggregates), every opening audited, attachments served only if intact and never cached."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cybercantal.booking.errors import BookingForbidden, BookingRuleError
from cybercantal.core.models import AuditLog
from cybercantal.telehealth.models import Act, ExpertiseAttachment, ExpertiseRequest
from cybercantal.telehealth.selectors.acts import user_label
from cybercantal.telehealth.services.expertise import (
    ATTACHMENT_MAX_BYTES,
    expertise_answer,
    expertise_create,
)
from tests.accounts.factories import UserFactory
from tests.telehealth.factories import (
    make_consultation,
    make_patient,
    make_practitioner,
    make_site,
    make_specialty,
    staff_user,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ASKED = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
ANSWERED = timezone.make_aware(dt.datetime(2026, 3, 3, 11, 30))


def upload(content=PDF, name="compte-rendu.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def doctors():
    derm = make_specialty()
    coordinator = UserFactory()
    site = make_site(coordinators=[coordinator])
    requester = make_practitioner(specialties=[derm], kind="generaliste")
    consultation = make_consultation(site=site, practitioner=requester, specialty=derm)
    return {
        "derm": derm,
        "site": site,
        "coordinator": coordinator,
        "requester": requester,
        "expert": make_practitioner(specialties=[derm]),
        "patient": consultation.patient,
        "consultation": consultation,
    }


def ask(doctors, **overrides):
    values = {
        "actor": doctors["requester"].user,
        "expert": doctors["expert"],
        "specialty": doctors["derm"],
        "patient": doctors["patient"],
        "question": "Lésion pigmentée du dos, évolutive : avis sur la conduite à tenir ?",
        "attachments": [],
        "now": ASKED,
    }
    return expertise_create(**(values | overrides))


# --- asking ---------------------------------------------------------------------------------


def test_a_practitioner_asks_with_attachments_stored_with_their_hash(doctors):
    request = ask(
        doctors,
        attachments=[
            upload(PDF),
            upload(PNG, "photo.png", "image/png"),
            upload(JPEG, "photo.JPG", "image/jpeg"),
        ],
    )
    assert request.status == ExpertiseRequest.Status.OPEN
    assert request.requester == doctors["requester"] and request.asked_at == ASKED
    files = list(request.attachments.order_by("pk"))
    assert [f.content_type for f in files] == ["application/pdf", "image/png", "image/jpeg"]
    for file, content in zip(files, (PDF, PNG, JPEG), strict=True):
        assert file.sha256 == hashlib.sha256(content).hexdigest()
        assert file.size == len(content)
        assert "compte-rendu" not in file.file.name and "photo" not in file.file.name
        assert file.file.name.endswith((".pdf", ".png", ".jpg"))
    created = AuditLog.objects.get(action="telehealth.expertise_create")
    assert created.data == {"expert": doctors["expert"].pk, "attachments": 3}
    assert "Lésion" not in str(created.data)


def test_a_patient_of_a_site_the_practitioner_coordinates_may_be_asked_about(doctors):
    other_site = make_site(coordinators=[doctors["requester"].user])
    patient = make_patient(other_site)
    assert ask(doctors, patient=patient).patient == patient


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 this is a program", "scan.pdf", "ni un PDF, ni une image"),
        (b"GIF89a......", "image.gif", "ni un PDF, ni une image"),
        (b"", "vide.pdf", "est vide"),
        (b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES, "gros.pdf", "dépasse 10 Mo"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_written(doctors, content, name, message):
    with pytest.raises(BookingRuleError, match=message):
        ask(doctors, attachments=[upload(PDF), upload(content, name)])
    assert not ExpertiseRequest.objects.exists()
    assert not ExpertiseAttachment.objects.exists()


def test_at_most_five_attachments(doctors):
    with pytest.raises(BookingRuleError, match="Pas plus de 5"):
        ask(doctors, attachments=[upload() for _ in range(6)])
    assert not ExpertiseRequest.objects.exists()


def test_who_may_ask_for_whom(doctors):
    stranger_patient = make_patient(make_site())
    with pytest.raises(BookingForbidden, match="patient que vous avez vu"):
        ask(doctors, patient=stranger_patient)
    for not_a_doctor in (doctors["coordinator"], staff_user(), UserFactory(), None):
        with pytest.raises(BookingForbidden, match="Seuls les médecins"):
            ask(doctors, actor=not_a_doctor)
    # The expert has never seen this patient: they may not ask about them.
    with pytest.raises(BookingForbidden):
        ask(doctors, actor=doctors["expert"].user, expert=doctors["requester"])
    assert not ExpertiseRequest.objects.exists()


def test_the_expert_must_fit(doctors):
    cardio = make_specialty(code="cardiologie", label="Cardiologie", devices=(), assistant="")
    with pytest.raises(BookingRuleError, match="ne donne pas d'avis en Cardiologie"):
        ask(doctors, specialty=cardio)
    with pytest.raises(BookingRuleError, match="autre médecin que vous-même"):
        ask(doctors, expert=doctors["requester"])
    doctors["expert"].is_active = False
    doctors["expert"].save()
    with pytest.raises(BookingRuleError, match="ne donne pas d'avis"):
        ask(doctors)
    with pytest.raises(BookingRuleError, match="Posez votre question"):
        ask(doctors, expert=make_practitioner(specialties=[doctors["derm"]]), question="  ")
    assert not ExpertiseRequest.objects.exists()


# --- answering -------------------------------------------------------------------------------


def test_answering_records_the_time_and_codes_te2_and_rqd(doctors):
    request = ask(doctors)
    result = expertise_answer(
        actor=doctors["expert"].user, request=request, answer="Exérèse conseillée.", now=ANSWERED
    )
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.ANSWERED
    assert request.answered_at == ANSWERED and request.answer == "Exérèse conseillée."
    codes = {(a.code, a.role, a.professional_id, a.amount) for a in result.acts}
    assert codes == {
        ("TE2", "expert", doctors["expert"].user.pk, Decimal("23.00")),
        ("RQD", "requerant", doctors["requester"].user.pk, Decimal("10.00")),
    }
    assert result.not_coded == []
    assert all(a.expertise == request and a.consultation is None for a in result.acts)
    assert all(a.performed_on == dt.date(2026, 3, 3) for a in result.acts)


def test_an_answer_in_2025_is_paid_at_the_2025_tariff(doctors):
    request = ask(doctors, now=timezone.make_aware(dt.datetime(2025, 12, 30, 9)))
    result = expertise_answer(
        actor=doctors["expert"].user,
        request=request,
        answer="Avis.",
        now=timezone.make_aware(dt.datetime(2025, 12, 31, 18)),
    )
    assert {a.code: a.amount for a in result.acts} == {
        "TE2": Decimal("20.00"),
        "RQD": Decimal("10.00"),
    }


def test_only_the_expert_answers_and_only_once(doctors):
    request = ask(doctors)
    for other in (doctors["requester"].user, doctors["coordinator"], staff_user(), None):
        with pytest.raises(BookingForbidden, match="Seul le médecin sollicité"):
            expertise_answer(actor=other, request=request, answer="Non.", now=ANSWERED)
    with pytest.raises(BookingRuleError, match="Écrivez votre réponse"):
        expertise_answer(actor=doctors["expert"].user, request=request, answer=" ", now=ANSWERED)
    request.refresh_from_db()
    assert request.status == ExpertiseRequest.Status.OPEN and not Act.objects.exists()
    expertise_answer(actor=doctors["expert"].user, request=request, answer="Oui.", now=ANSWERED)
    with pytest.raises(BookingRuleError, match="déjà reçu sa réponse"):
        expertise_answer(actor=doctors["expert"].user, request=request, answer="Bis", now=ANSWERED)
    assert Act.objects.count() == 2


def test_the_yearly_caps_of_te2_and_rqd_leave_the_answer_in_place(doctors):
    for _ in range(4):
        expertise_answer(
            actor=doctors["expert"].user, request=ask(doctors), answer="Avis.", now=ANSWERED
        )
    fifth = ask(doctors)
    result = expertise_answer(
        actor=doctors["expert"].user, request=fifth, answer="Cinquième avis.", now=ANSWERED
    )
    fifth.refresh_from_db()
    assert fifth.status == ExpertiseRequest.Status.ANSWERED and fifth.answered_at == ANSWERED
    assert result.acts == []
    expert, requester = (user_label(doctors[key].user) for key in ("expert", "requester"))
    assert result.not_coded == [
        f"TE2 non codé. TE2 : {expert} a déjà facturé 4 actes pour ce patient en 2026, c'est le "
        "plafond annuel par professionnel et par patient.",
        f"RQD non codé. RQD : {requester} a déjà facturé 4 actes pour ce patient en 2026, c'est "
        "le plafond annuel par professionnel et par patient.",
    ]
    assert Act.objects.filter(code="RQD").count() == Act.objects.filter(code="TE2").count() == 4
    # Next year the count starts again.
    next_year = ask(doctors, now=timezone.make_aware(dt.datetime(2027, 1, 4, 9)))
    result = expertise_answer(
        actor=doctors["expert"].user,
        request=next_year,
        answer="Avis.",
        now=timezone.make_aware(dt.datetime(2027, 1, 5, 9)),
    )
    assert sorted(a.code for a in result.acts) == ["RQD", "TE2"]


# --- pages -----------------------------------------------------------------------------------


def test_the_list_shows_sent_and_received_with_the_time_to_answer(client, doctors):
    answered = ask(doctors)
    expertise_answer(actor=doctors["expert"].user, request=answered, answer="Avis.", now=ANSWERED)
    ask(doctors)
    client.force_login(doctors["requester"].user)
    page = client.get(reverse("telehealth:expertise_list")).content.decode()
    assert "Les demandes que vous avez envoyées" in page
    assert "1 j 2 h" in page  # 2 March 9:00 → 3 March 11:30
    assert "Aucune demande reçue." in page
    client.force_login(doctors["expert"].user)
    page = client.get(reverse("telehealth:expertise_list")).content.decode()
    assert "Les demandes qui vous sont adressées" in page and "Aucune demande envoyée." in page


def test_staff_see_aggregates_only(client, doctors):
    request = ask(doctors)
    expertise_answer(actor=doctors["expert"].user, request=request, answer="Avis.", now=ANSWERED)
    ask(doctors)
    client.force_login(staff_user())
    response = client.get(reverse("telehealth:expertise_list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Chiffres du réseau" in page and "26,5 heures" in page
    assert doctors["patient"].display_name not in page
    assert reverse("telehealth:expertise_detail", args=[request.pk]) not in page
    assert client.get(reverse("telehealth:expertise_detail", args=[request.pk])).status_code == 404


@pytest.mark.parametrize("who", ["stranger", "coordinator", "other_doctor", "staff"])
def test_nobody_but_the_two_doctors_opens_a_request(client, doctors, who):
    request = ask(doctors, attachments=[upload()])
    attachment = request.attachments.get()
    user = {
        "stranger": UserFactory,
        "coordinator": lambda: doctors["coordinator"],
        "other_doctor": lambda: make_practitioner().user,
        "staff": staff_user,
    }[who]()
    client.force_login(user)
    urls = [
        reverse("telehealth:expertise_detail", args=[request.pk]),
        reverse("telehealth:expertise_attachment", args=[request.pk, attachment.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("telehealth:expertise_answer", args=[request.pk]), {"answer": "Intrusion"}
    )
    assert response.status_code == 404
    assert not AuditLog.objects.filter(action__startswith="telehealth.expertise_view").exists()
    request.refresh_from_db()
    assert request.answer == ""


def test_pages_are_for_practitioners(client):
    client.force_login(UserFactory())
    assert client.get(reverse("telehealth:expertise_list")).status_code == 403
    assert client.get(reverse("telehealth:expertise_new")).status_code == 403


def test_each_opening_is_audited_and_the_attachment_is_never_cached(client, doctors):
    request = ask(doctors, attachments=[upload(PNG, "photo.png", "image/png")])
    attachment = request.attachments.get()
    client.force_login(doctors["expert"].user)
    page = client.get(reverse("telehealth:expertise_detail", args=[request.pk]))
    assert page.status_code == 200
    assert "Lésion pigmentée" in page.content.decode()
    assert AuditLog.objects.filter(
        action="telehealth.expertise_view", actor=doctors["expert"].user
    ).exists()
    response = client.get(
        reverse("telehealth:expertise_attachment", args=[request.pk, attachment.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert "photo" not in response["Content-Disposition"]
    viewed = AuditLog.objects.get(action="telehealth.expertise_attachment_view")
    assert viewed.data == {"attachment": attachment.pk}


def test_an_altered_or_missing_attachment_is_not_served(client, doctors):
    request = ask(doctors, attachments=[upload()])
    attachment = request.attachments.get()
    url = reverse("telehealth:expertise_attachment", args=[request.pk, attachment.pk])
    storage, name = attachment.file.storage, attachment.file.name
    storage.delete(name)
    storage.save(name, ContentFile(b"%PDF-1.7 replaced"))
    client.force_login(doctors["requester"].user)
    response = client.get(url)
    assert response.status_code == 409 and "modifié depuis son dépôt" in response.content.decode()
    assert AuditLog.objects.filter(action="telehealth.expertise_attachment_altered").exists()
    storage.delete(name)
    assert client.get(url).status_code == 409
    assert AuditLog.objects.filter(action="telehealth.expertise_attachment_missing").exists()
    other = ask(doctors, attachments=[upload()]).attachments.get()
    wrong_pair = reverse("telehealth:expertise_attachment", args=[request.pk, other.pk])
    assert client.get(wrong_pair).status_code == 404


def test_an_erased_request_says_so(client, doctors):
    request = ask(doctors, attachments=[upload()])
    attachment = request.attachments.get()
    ExpertiseRequest.objects.filter(pk=request.pk).update(
        question="", answer="", content_erased_at=timezone.now()
    )
    client.force_login(doctors["requester"].user)
    page = client.get(reverse("telehealth:expertise_detail", args=[request.pk])).content.decode()
    assert "Contenu effacé (durée de conservation)." in page
    assert reverse("telehealth:expertise_attachment", args=[request.pk, attachment.pk]) not in page
    listing = client.get(reverse("telehealth:expertise_list")).content.decode()
    assert "contenu effacé (durée de conservation)" in listing
    response = client.get(
        reverse("telehealth:expertise_attachment", args=[request.pk, attachment.pk])
    )
    assert response.status_code == 410
    client.force_login(doctors["expert"].user)
    response = client.post(
        reverse("telehealth:expertise_answer", args=[request.pk]), {"answer": "Trop tard"}
    )
    assert response.status_code == 422 and "a été effacé" in response.content.decode()


def test_asking_through_the_page(client, doctors):
    client.force_login(doctors["requester"].user)
    url = reverse("telehealth:expertise_new")
    page = client.get(url).content.decode()
    assert doctors["patient"].display_name in page
    assert str(doctors["requester"]) not in page.split('name="expert"')[1].split("</select>")[0]
    data = {
        "expert": doctors["expert"].pk,
        "specialty": doctors["derm"].pk,
        "patient": doctors["patient"].pk,
        "question": "Avis ?",
        "attachments": [upload(), upload(JPEG, "b.jpg", "image/jpeg")],
    }
    response = client.post(url, data)
    request = ExpertiseRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("telehealth:expertise_detail", args=[request.pk])
    assert request.attachments.count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attachments": [upload(b"<html>", "page.pdf")]}, "ni un PDF, ni une image"),
        ({"question": ""}, "Posez votre question"),
        ({"patient": "999999"}, "Vous ne pouvez pas demander d&#x27;avis pour ce patient"),
        ({"expert": "abc"}, "Ce médecin ne peut pas être sollicité"),
        ({"specialty": ""}, "Choisissez la spécialité"),
    ],
)
def test_bad_input_on_the_page_is_a_422_and_nothing_is_written(client, doctors, overrides, message):
    client.force_login(doctors["requester"].user)
    data = {
        "expert": doctors["expert"].pk,
        "specialty": doctors["derm"].pk,
        "patient": doctors["patient"].pk,
        "question": "Avis ?",
    } | overrides
    response = client.post(reverse("telehealth:expertise_new"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ExpertiseRequest.objects.exists()


def test_a_patient_out_of_reach_is_not_offered(client, doctors):
    stranger = make_patient(make_site(), name="M. Inconnu Lointain")
    client.force_login(doctors["requester"].user)
    assert (
        "Inconnu Lointain" not in client.get(reverse("telehealth:expertise_new")).content.decode()
    )
    response = client.post(
        reverse("telehealth:expertise_new"),
        {
            "expert": doctors["expert"].pk,
            "specialty": doctors["derm"].pk,
            "patient": stranger.pk,
            "question": "Avis ?",
        },
    )
    assert response.status_code == 422 and not ExpertiseRequest.objects.exists()


def test_answering_through_the_page(client, doctors):
    request = ask(doctors)
    client.force_login(doctors["expert"].user)
    url = reverse("telehealth:expertise_answer", args=[request.pk])
    assert client.post(url, {"answer": ""}).status_code == 422
    response = client.post(url, {"answer": "Avis : surveillance."}, follow=True)
    page = response.content.decode()
    assert "Réponse envoyée. Actes codés" in page and "Avis : surveillance." in page
    assert "délai de réponse" in page
    client.force_login(doctors["requester"].user)
    response = client.post(url, {"answer": "Moi aussi"})
    assert response.status_code == 403
