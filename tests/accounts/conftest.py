import pytest
from django.core.cache import cache

from cybercantal.core.notifications import sms


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def sms_outbox():
    """The SMS "sent" by LocmemSmsBackend during the test."""
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _static_root(settings, tmp_path):
    """WhiteNoise warns (an error here) when STATIC_ROOT does not exist, as in a fresh
    checkout before collectstatic."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Run what would run after commit (notification tasks) at the end of the block: test
    transactions never commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
