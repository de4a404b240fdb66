"""Factories for people, their organisations and memberships.

Other apps import `UserFactory` and `MembershipFactory(user=..., role=...)` from here. The
territory factories (communes, organisations) are re-exported for convenience.
"""

import factory
from django.contrib.auth import get_user_model

from cybercantal.accounts.models import Membership, Role
from tests.territory.factories import CommuneFactory, EpciFactory, OrganisationFactory

__all__ = [
    "DEFAULT_PASSWORD",
    "CommuneFactory",
    "EpciFactory",
    "MembershipFactory",
    "OrganisationFactory",
    "UserFactory",
]

DEFAULT_PASSWORD = "motdepasse-de-test-123"


class UserFactory(factory.django.DjangoModelFactory):
    """A person with a known password (DEFAULT_PASSWORD); `password=False` makes it unusable,
    like an account created on someone's behalf."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"personne{n}")
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    phone = ""

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        if extracted is False:
            obj.set_unusable_password()
        else:
            obj.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        """`UserFactory(roles=[Role.MEDIATOR])` gives the person those roles in a new
        organisation each."""
        if create and extracted:
            for role in extracted:
                MembershipFactory(user=obj, role=role)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.RESIDENT
    is_active = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # User.role_codes() caches per instance: forget it so the new role is seen at once.
        super()._after_postgeneration(instance, create, results)
        if create and hasattr(instance.user, "_role_codes"):
            del instance.user._role_codes


def totp_device(user, *, confirmed: bool = True):
    """A TOTP authenticator for `user`; compute its current code with `totp_code(device)`."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="Test", confirmed=confirmed)


def totp_code(device) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def force_login_verified(client, user):
    """Log `user` in and mark the session as verified by a TOTP device, as after a real
    two-factor login: platform administrators need this to reach any page."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
