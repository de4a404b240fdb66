"""booking.phone_confirmation, the public way to confirm a mobile number by an SMS code, called
as a module's registration page calls it: the code is texted and only its hash kept, under the
flow's own key; a right code confirms the phone for a while; wrong tries, expiry and the
number's counters refuse with French messages; the bookings made are remembered per browser.
(The booking pages' flow through it is tested in test_views.py.)"""

import re
import time
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from cybercantal.booking import phone_confirmation
from cybercantal.booking.forms import CodeVerifyForm
from cybercantal.booking.views._common import RECENT_MAX

pytestmark = pytest.mark.django_db

KEY = "tests_pending"
MOBILE = "+33639980001"  # ARCEP's range for fiction


@pytest.fixture
def request_():
    """A visitor's request with a session (kept across calls, as a browser's) and messages."""
    request = RequestFactory().post("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request._messages = FallbackStorage(request)
    request.user = AnonymousUser()
    return request


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def send(request, send_now, *, key=KEY, query="atelier-7", purpose="booking"):
    with send_now():
        return phone_confirmation.send_code(
            request,
            key=key,
            name="Jeanne Martin",
            phone=MOBILE,
            email="",
            query=query,
            purpose=purpose,
        )


def texted_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].text).group(1)


def check(request, code: str):
    form = CodeVerifyForm({"code": code})
    assert form.is_valid()
    context = {  # what booking/code.html expects (the waiting list's variant)
        "purpose": "waitlist",
        "summary": "Aide au numérique",
        "phone_label": "06 39 98 00 01",
        "minutes": 10,
        "form": form,
        "code_url": "/code/",
        "back_url": "/",
    }
    response = phone_confirmation.check_code(
        request, key=KEY, pending=request.session[KEY], form=form, context=context
    )
    return response, context


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_code_is_texted_and_only_its_hash_kept(request_, send_now, sms_outbox):
    assert send(request_, send_now) is None
    assert len(sms_outbox) == 1 and sms_outbox[0].to == MOBILE
    assert "confirmer votre rendez-vous" in sms_outbox[0].text
    code = texted_code(sms_outbox)
    pending = request_.session[KEY]
    assert (pending["name"], pending["phone"], pending["query"]) == (
        "Jeanne Martin",
        MOBILE,
        "atelier-7",
    )
    assert code not in str(dict(request_.session))
    assert phone_confirmation.verified_contact(request_) is None


def test_the_right_code_confirms_the_phone_for_a_while(request_, send_now, sms_outbox):
    send(request_, send_now)
    response, _context = check(request_, texted_code(sms_outbox))
    assert response is None
    assert KEY not in request_.session  # used once
    contact = phone_confirmation.verified_contact(request_)
    assert (contact["name"], contact["phone"]) == ("Jeanne Martin", MOBILE)
    assert contact["until"] > time.time() + phone_confirmation.VERIFIED_SECONDS - 60

    phone_confirmation.forget_verified_contact(request_)
    assert phone_confirmation.verified_contact(request_) is None


def test_a_confirmed_phone_is_forgotten_after_its_time(request_, send_now, sms_outbox):
    send(request_, send_now)
    check(request_, texted_code(sms_outbox))
    contact = request_.session[phone_confirmation.VERIFIED_KEY]
    request_.session[phone_confirmation.VERIFIED_KEY] = {**contact, "until": time.time() - 1}
    assert phone_confirmation.verified_contact(request_) is None
    assert phone_confirmation.VERIFIED_KEY not in request_.session


def test_wrong_codes_count_down_then_lock_the_code(request_, send_now, sms_outbox, settings):
    settings.LOGIN_RATE_LIMIT = 50  # the code's own limit, not the number's
    send(request_, send_now)
    code = texted_code(sms_outbox)
    response, context = check(request_, wrong(code))
    left = settings.ONE_TIME_CODE_MAX_ATTEMPTS - 1
    assert response.status_code == 400
    assert f"il vous reste {left} essais" in context["form"].errors["code"][0]
    for _ in range(left):
        response, context = check(request_, wrong(code))
    assert "Trop d'essais" in context["form"].errors["code"][0] and context["ask_new_code"]
    response, context = check(request_, code)  # too late, even the right one
    assert response.status_code == 400 and "Trop d'essais" in context["form"].errors["code"][0]
    assert phone_confirmation.verified_contact(request_) is None


def test_an_expired_code_is_refused(request_, send_now, sms_outbox):
    send(request_, send_now)
    request_.session[KEY] = {**request_.session[KEY], "expires": time.time() - 1}
    response, context = check(request_, texted_code(sms_outbox))
    assert response.status_code == 400
    assert "Ce code a expiré" in context["form"].errors["code"][0]
    assert phone_confirmation.verified_contact(request_) is None


def test_a_new_code_replaces_the_old_one(request_, send_now, sms_outbox):
    send(request_, send_now)
    first = texted_code(sms_outbox)
    with send_now():
        response = phone_confirmation.resend_code(
            request_,
            key=KEY,
            pending=request_.session[KEY],
            purpose="waitlist",
            back_url="/retour/",
            code_url="/code/",
        )
    assert response.status_code == 302 and response.url == "/code/"
    assert len(sms_outbox) == 2 and "liste d'attente" in sms_outbox[1].text
    assert request_.session[KEY]["query"] == "atelier-7"  # the same request
    second = texted_code(sms_outbox)
    if second != first:
        assert check(request_, first)[0].status_code == 400
    assert check(request_, second)[0] is None


def test_each_flow_keeps_its_own_request(request_, send_now, sms_outbox):
    send(request_, send_now, key="flow_a", query="a")
    send(request_, send_now, key="flow_b", query="b")
    assert (request_.session["flow_a"]["query"], request_.session["flow_b"]["query"]) == (
        "a",
        "b",
    )


def test_a_number_without_sms_is_refused_and_nothing_kept(request_, send_now, sms_outbox):
    with pytest.raises(ValueError, match="mobile"), send_now():
        phone_confirmation.send_code(
            request_, key=KEY, name="Jeanne", phone="+33471000000", email="", query="q"
        )
    assert KEY not in request_.session and sms_outbox == []


def test_codes_asked_too_often_answer_429_with_retry_after(request_, send_now, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT):
        assert send(request_, send_now) is None
    exceeded = send(request_, send_now)
    assert exceeded is not None
    response = phone_confirmation.too_many_response(request_, exceeded)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Trop de demandes de code" in response.content.decode()


def test_bookings_made_from_this_browser_are_remembered(request_):
    # Only the reference is remembered: no need for real bookings.
    bookings = [SimpleNamespace(reference=f"REF{n:05d}") for n in range(RECENT_MAX + 1)]
    for booking in bookings:
        phone_confirmation.remember_booking(request_, booking)
    phone_confirmation.remember_booking(request_, bookings[-2])  # again: moved first, once
    remembered = request_.session[phone_confirmation.RECENT_KEY]
    assert remembered[:2] == [bookings[-2].reference, bookings[-1].reference]
    assert len(remembered) == len(set(remembered)) == RECENT_MAX
    assert phone_confirmation.is_remembered_booking(request_, bookings[-1].reference)
    assert not phone_confirmation.is_remembered_booking(request_, bookings[0].reference)
