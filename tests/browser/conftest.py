import pytest


@pytest.fixture(scope="session", autouse=True)
def _static_root_exists():
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as in a fresh checkout
    before collectstatic. The live server is session-wide, so a per-test settings override
    comes too late: make sure the directory exists before it starts."""
    from django.conf import settings

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
