"""The starting tariff tables of telehealth acts (ActTariff).

Starting values only: the staff of the Département must check them against the official
schedule (NGAP, conventions published on ameli.fr and Légifrance) before relying on them, and
edit them on /telesante/tarifs/. Each row says where it comes from in `source`. A frozen copy
of the data (not imported from the app) so that this migration means the same thing forever.
"""

from decimal import Decimal

from django.db import migrations

_CHECK = "À vérifier avant usage."
_AMELI_TLC = (
    "ameli.fr, « La téléconsultation » (exercice coordonné > télémédecine) : remboursée depuis "
    "le 15/09/2018 (avenant 6 de la convention médicale) ; TCG 25 € (généraliste secteur 1)."
)
_TE = (
    "ameli.fr, « La téléexpertise » ; vidal.fr « Téléexpertise : médecins libéraux » : TE2 "
    "20 € (23 € au 01/01/2026), 4 actes par an pour un même patient ; niveau unique de "
    "l'avenant 9, début retenu le 01/04/2022 (date exacte à vérifier)."
)
_RQD = (
    "vidal.fr et omnidoc.fr (téléexpertise, tarifs 2026) : RQD 10 € pour le médecin requérant, "
    "4 actes par an pour un même patient ; non revalorisé en 2026 ; début retenu le 01/04/2022 "
    "(avenant 9, date exacte à vérifier)."
)
_IDE = (
    "Convention nationale des infirmiers, avenant 6 ; ameli.fr (infirmier, télésanté) : "
    "accompagnement à la téléconsultation %s. Début retenu le 01/01/2020 (juillet 2019 selon "
    "certaines sources : à vérifier)."
)
_TLM = (
    "ameli.fr, « Assistance à la téléconsultation en officine » (convention nationale des "
    "pharmaciens du 09/03/2022, art. V.I, en vigueur le 07/05/2022 selon l'arrêté du "
    "31/03/2022, Légifrance) : code TLM, 1 € par téléconsultation assistée."
)

REFERENCE_TARIFFS = [
    # code, label, role, amount, valid_from, valid_until, yearly cap, source
    ("TCG", "Téléconsultation (médecin généraliste, secteur 1)", "medecin", "25.00",
     "2018-09-15", None, None, _AMELI_TLC),
    ("TE2", "Téléexpertise : avis du médecin requis", "expert", "20.00",
     "2022-04-01", "2025-12-31", 4, _TE),
    ("TE2", "Téléexpertise : avis du médecin requis", "expert", "23.00",
     "2026-01-01", None, 4, _TE),
    ("RQD", "Téléexpertise : demande du médecin requérant", "requerant", "10.00",
     "2022-04-01", None, 4, _RQD),
    ("TLS", "Accompagnement infirmier lors d'un soin déjà prévu", "infirmier", "10.00",
     "2020-01-01", None, None, _IDE % "lors d'un soin infirmier déjà prévu, TLS 10 €"),
    ("TLL", "Accompagnement infirmier dans un lieu dédié aux téléconsultations", "infirmier",
     "12.00", "2020-01-01", None, None,
     _IDE % "organisé dans un lieu dédié aux téléconsultations, TLL 12 €"),
    ("TLD", "Accompagnement infirmier organisé au domicile du patient", "infirmier", "15.00",
     "2020-01-01", None, None, _IDE % "organisé au domicile du patient, TLD 15 €"),
    ("TLM", "Assistance du pharmacien à la téléconsultation en officine", "pharmacie", "1.00",
     "2022-05-07", None, None, _TLM),
]  # fmt: skip


def load(apps, schema_editor):
    ActTariff = apps.get_model("telehealth", "ActTariff")
    for code, label, role, amount, start, end, cap, source in REFERENCE_TARIFFS:
        ActTariff.objects.get_or_create(
            code=code,
            valid_from=start,
            defaults={
                "label": label,
                "role": role,
                "amount": Decimal(amount),
                "valid_until": end,
                "yearly_cap_per_patient": cap,
                "source": f"{source} {_CHECK}"[:300],
            },
        )


def unload(apps, schema_editor):
    ActTariff = apps.get_model("telehealth", "ActTariff")
    for code, _label, _role, _amount, start, *_rest in REFERENCE_TARIFFS:
        # Only rows no act refers to: a tariff used by an act is history.
        ActTariff.objects.filter(code=code, valid_from=start, acts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("telehealth", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
