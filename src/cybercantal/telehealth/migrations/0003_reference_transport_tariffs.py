"""The starting transport tariffs (TransportTariff) that price the trip a teleconsultation
avoids: ambulance, light medical vehicle (VSL) and the patient's own car.

Starting values only: the most recent amounts that could be confirmed when this was written.
The ambulance and VSL tariffs have been raised since by the avenants 10 and 11 to the national
convention of private medical transport (avenant 11: from 6 November 2023, then 1 January
2025), whose amounts could not be confirmed here. The staff of the Département must check them
against ameli.fr before relying on them, and edit them on /telesante/reseau/transports/. Each
row says where it comes from in `source`. The forfait départemental includes the first 3 km
(selectors/economics.py deducts them). A frozen copy of the data (not imported from the app)
so that this migration means the same thing forever; rows already there are left alone.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

TARIFFS = [
    {
        "mode": "ambulance",
        "flat_fee": Decimal("51.30"),
        "per_km": Decimal("2.190"),
        "valid_from": dt.date(2013, 2, 1),
        "source": (
            "ameli.fr, « Ambulances : les tarifs conventionnels », tarifs au 01/02/2013 : forfait "
            "départemental 51,30 € (3 premiers km inclus), 2,19 €/km. Revalorisés depuis "
            "(avenants 10 et 11, 06/11/2023 et 01/01/2025) : montants à vérifier."
        ),
    },
    {
        "mode": "vsl",
        "flat_fee": Decimal("11.97"),
        "per_km": Decimal("1.020"),
        "valid_from": dt.date(2021, 3, 8),
        "source": (
            "ameli.fr, « VSL : les tarifs conventionnels », au 08/03/2021 : forfait départemental "
            "zone D 11,97 € (A 13,85 ; B 13,45 ; C 12,60 ; zone du Cantal à vérifier), 3 premiers "
            "km inclus, 1,02 €/km. Revalorisé par l'avenant 11 : à vérifier."
        ),
    },
    {
        "mode": "personnel",
        "flat_fee": Decimal("0"),
        "per_km": Decimal("0.300"),
        "valid_from": dt.date(2015, 4, 1),
        "source": (
            "Arrêté du 30 mars 2015 : tarif kilométrique de remboursement des transports "
            "individuels par l'Assurance Maladie, 0,30 €/km (cité au JO du 12/03/2024, question "
            "n° 9473). Date d'effet retenue : 01/04/2015, à vérifier."
        ),
    },
]


def add_tariffs(apps, schema_editor):
    TransportTariff = apps.get_model("telehealth", "TransportTariff")
    for row in TARIFFS:
        TransportTariff.objects.get_or_create(
            mode=row["mode"],
            valid_from=row["valid_from"],
            defaults={
                "flat_fee": row["flat_fee"],
                "per_km": row["per_km"],
                "source": row["source"],
            },
        )


def remove_tariffs(apps, schema_editor):
    TransportTariff = apps.get_model("telehealth", "TransportTariff")
    for row in TARIFFS:
        TransportTariff.objects.filter(
            mode=row["mode"],
            valid_from=row["valid_from"],
            source=row["source"],
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("telehealth", "0002_reference_tariffs"),
    ]

    operations = [migrations.RunPython(add_tariffs, remove_tariffs)]
