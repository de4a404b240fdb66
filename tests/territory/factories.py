"""Factories for organisations and places (lieux).

Places need a commune: tests load the real Cantal with the `cantal` fixture and pass one
(`PlaceFactory(commune=aurillac)`); the place then sits at the commune's reference point unless
latitude/longitude are given. Without a commune, one outside the Cantal is made up (code 99xxx).
"""

import factory

from cybercantal.territory.models import Commune, Epci, Organisation, Place, PlaceKind


class EpciFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Epci
        django_get_or_create = ("siren",)

    siren = factory.Sequence(lambda n: f"9{n:08d}")
    name = factory.Sequence(lambda n: f"Intercommunalité d'essai {n}")


class CommuneFactory(factory.django.DjangoModelFactory):
    """A made-up commune outside the Cantal (département 99), so it never collides with the
    real communes loaded by the `cantal` fixture."""

    class Meta:
        model = Commune
        django_get_or_create = ("insee_code",)

    insee_code = factory.Sequence(lambda n: f"99{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"Commune d'essai {n}")
    postal_codes = "99000"
    population = 300
    epci = factory.SubFactory(EpciFactory)
    department_code = "99"
    latitude = 45.0
    longitude = 2.5


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Structure d'essai {n}")
    kind = Organisation.Kind.ASSOCIATION


class PlaceFactory(factory.django.DjangoModelFactory):
    """`PlaceFactory(commune=c, kinds=["mediation", "tiers_lieu"])`: kinds are PlaceKind codes
    (the rows come from the territory's data migration)."""

    class Meta:
        model = Place
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Lieu d'essai {n}")
    description = "Un lieu pour se faire aider."
    address = "1 place de la Mairie"
    commune = factory.SubFactory(CommuneFactory)
    postal_code = factory.LazyAttribute(lambda p: p.commune.postal_code_list[0])
    latitude = factory.LazyAttribute(lambda p: p.commune.latitude)
    longitude = factory.LazyAttribute(lambda p: p.commune.longitude)
    is_public = True

    @factory.post_generation
    def kinds(obj, create, extracted, **kwargs):
        if create:
            codes = extracted if extracted is not None else ["mediation"]
            obj.kinds.set(PlaceKind.objects.filter(code__in=codes))
