"""On PostgreSQL: a correction of the attendance and the closing of the workshop never cross.
The closing holds the session's row (SELECT … FOR UPDATE); a correction asked meanwhile waits
for it, then sees the session closed and is refused, so the report written by the closing
counts the marks as they stay. Deselected on SQLite, which serialises writers anyway
(tests/conftest.py)."""

import datetime as dt
import threading

import pytest
from django.db import connections, transaction

from cybercantal.booking.errors import BookingRuleError
from cybercantal.booking.models import Booking
from cybercantal.mediation.models import Activity, WorkshopSession
from cybercantal.mediation.services.workshops import workshop_attendance_mark, workshop_close
from tests.territory.factories import CommuneFactory, OrganisationFactory, PlaceFactory

from .test_workshops import AFTER, DURING, NOW, create, mediator_of, register

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_correction_asked_during_the_closing_waits_then_is_refused(monkeypatch):
    from django.utils import timezone

    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"].astimezone(dt.UTC))
    structure = OrganisationFactory()
    mediator = mediator_of(structure)
    place = PlaceFactory(commune=CommuneFactory(latitude=45.11, longitude=2.87))
    session = create(mediator, structure, place)
    booking = register(session).booking
    workshop_attendance_mark(
        actor=mediator, session=session, booking=booking, present=True, now=DURING
    )
    clock["now"] = AFTER

    closing_holds_the_row = threading.Event()
    finish_closing = threading.Event()
    outcomes: dict[str, object] = {}

    def closing() -> None:
        try:
            with transaction.atomic():
                # The lock workshop_close takes, taken a moment earlier to hold it open.
                WorkshopSession.objects.select_for_update().get(pk=session.pk)
                closing_holds_the_row.set()
                finish_closing.wait(timeout=20)
                outcomes["closing"] = workshop_close(actor=mediator, session=session, now=AFTER)
        except Exception as exc:  # reported by the assertions below
            outcomes["closing"] = exc
        finally:
            connections.close_all()

    def correction() -> None:
        try:
            outcomes["correction"] = workshop_attendance_mark(
                actor=mediator, session=session, booking=booking, present=False, now=AFTER
            )
        except Exception as exc:
            outcomes["correction"] = exc
        finally:
            connections.close_all()

    closer = threading.Thread(target=closing)
    closer.start()
    assert closing_holds_the_row.wait(timeout=20)
    corrector = threading.Thread(target=correction)
    corrector.start()
    corrector.join(timeout=1.5)
    waited = corrector.is_alive()  # blocked on the session's row, not done behind its back
    finish_closing.set()
    closer.join(timeout=30)
    corrector.join(timeout=30)

    assert waited
    assert isinstance(outcomes["closing"], WorkshopSession), outcomes["closing"]
    refusal = outcomes["correction"]
    assert isinstance(refusal, BookingRuleError), refusal
    assert "clôturé" in refusal.message
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert Activity.objects.get().participants_count == 1
