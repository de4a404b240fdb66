import pytest


@pytest.fixture
def platform_admin(db):
    """A platform administrator (role held through a membership) with a TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cybercantal.accounts.models import Role
    from tests.accounts.factories import UserFactory

    user = UserFactory(roles=[Role.PLATFORM_ADMIN])
    TOTPDevice.objects.create(user=user, name="téléphone", confirmed=True)
    return user


def login(client, user, *, verified: bool = True) -> None:
    """Sign `user` in; with verified=True, as if they had entered their second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = user.totpdevice_set.first() if verified else None
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def platform_admin_client(client, platform_admin):
    """A client signed in as a platform administrator, second factor verified."""
    login(client, platform_admin)
    return client
