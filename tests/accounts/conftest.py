import pytest


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Run what would run after commit (notification tasks) at the end of the block: test
    transactions never commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
