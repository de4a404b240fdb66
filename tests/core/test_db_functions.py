"""EpochSeconds gives the same instant as the datetime, on SQLite and on PostgreSQL."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session

from cybercantal.core.db_functions import EpochSeconds

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2027, 3, 28, 0, 30, 15, 250_000, tzinfo=dt.UTC),  # night of the DST change
        dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ],
)
def test_epoch_seconds_is_the_instant(moment):
    Session.objects.create(session_key="k", session_data="", expire_date=moment)
    (seconds,) = Session.objects.annotate(s=EpochSeconds("expire_date")).values_list("s", flat=True)
    assert seconds == pytest.approx(moment.timestamp(), abs=1e-3)
