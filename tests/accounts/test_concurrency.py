"""Accounts under real concurrency, on PostgreSQL: each worker thread has its own connection.

SQLite serialises writers, so these prove nothing there; they run whenever DATABASE_URL points
at PostgreSQL (see tests/conftest.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from cybercantal.accounts import services
from cybercantal.accounts.models import PersonalDataRequest, Role, User
from cybercantal.accounts.ratelimit import rate_limit_hit
from cybercantal.core.models import AuditLog
from tests.concurrency import run_concurrently

from .factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 30
CACHE_TABLE = "test_login_rate_cache"


@pytest.fixture
def database_cache(settings):
    """The database cache, the default without REDIS_URL, whose incr is a read then a write."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
        }
    }
    call_command("createcachetable", verbosity=0)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CACHE_TABLE}")


def test_simultaneous_attempts_through_the_database_cache_let_the_limit_through(
    database_cache, settings
):
    settings.LOGIN_RATE_LIMIT = 5
    settings.LOGIN_RATE_LIMIT_PER_IP = 1000
    user = UserFactory(username="marie")

    outcomes = run_concurrently(
        lambda i: rate_limit_hit(
            identifier="marie", ip=f"192.0.2.{i}", action="password", user=user
        ),
        WORKERS,
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert sum(outcome is None for outcome in outcomes) == 5
    assert AuditLog.objects.filter(action="accounts.login_locked").count() == 1


def test_simultaneous_attempts_on_a_new_window_of_the_database_cache(database_cache, settings):
    """Every worker finds no counter and creates it: the primary key keeps one."""
    settings.LOGIN_RATE_LIMIT = 1000
    settings.LOGIN_RATE_LIMIT_PER_IP = 3

    outcomes = run_concurrently(
        lambda i: rate_limit_hit(identifier=f"inconnu{i}", ip="192.0.2.1", action="password"),
        WORKERS,
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert sum(outcome is None for outcome in outcomes) == 3


def test_simultaneous_erasure_requests_give_one_request_and_no_error():
    user = UserFactory()

    outcomes = run_concurrently(
        lambda i: services.erasure_request_create(actor=user, reason=f"onglet {i}"), WORKERS
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert PersonalDataRequest.objects.filter(user=user).count() == 1
    assert {outcome.pk for outcome in outcomes} == {PersonalDataRequest.objects.get().pk}


def test_simultaneous_accounts_with_one_phone_give_one_account_and_french_refusals():
    agent = UserFactory(roles=[Role.MEDIATOR])

    def create(i: int):
        try:
            return services.user_create_on_behalf(
                actor=agent, first_name="Jeanne", last_name=f"Martin{i}", phone="0612345678"
            )
        except ValidationError as error:
            return error.message_dict

    outcomes = run_concurrently(create, WORKERS)

    refusals = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    created = [outcome for outcome in outcomes if isinstance(outcome, User)]
    assert len(created) == 1, outcomes
    assert refusals == [
        {"phone": ["Ce numéro de téléphone est déjà utilisé par un autre compte."]}
    ] * (WORKERS - 1)


def test_simultaneous_homonyms_get_distinct_usernames():
    agent = UserFactory(roles=[Role.MEDIATOR])

    outcomes = run_concurrently(
        lambda i: services.user_create_on_behalf(actor=agent, first_name="Jean", last_name="Dupré"),
        10,
    )

    assert all(isinstance(outcome, User) for outcome in outcomes), outcomes
    assert len({outcome.username.lower() for outcome in outcomes}) == 10
