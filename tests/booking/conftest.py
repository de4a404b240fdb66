import datetime as dt
from zoneinfo import ZoneInfo

import pytest

PARIS = ZoneInfo("Europe/Paris")


def at(day: str, time: str) -> dt.datetime:
    """An aware datetime in Paris time: at("2027-03-01", "09:30")."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=PARIS)


# A fixed "now": Monday 1 March 2027, 08:00 in Paris. Tests pass it to services and selectors.
NOW = at("2027-03-01", "08:00")


@pytest.fixture
def now():
    return NOW
