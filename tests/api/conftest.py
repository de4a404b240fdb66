import pytest


@pytest.fixture(autouse=True)
def _static_root(settings, tmp_path):
    """WhiteNoise warns (an error here) when STATIC_ROOT does not exist, which is the case in
    a fresh checkout before collectstatic. Until settings/test.py creates it, point it at an
    empty directory."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STATIC_ROOT.mkdir()
