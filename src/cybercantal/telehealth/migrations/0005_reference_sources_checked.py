"""What the check of the starting tariffs against published sources found (November 2026), written
into the `source` of the reference rows of 0002 and 0003 — only where staff have not edited
them (the source is still the one those migrations wrote). Amounts are not changed: where a
newer amount could not be confirmed by an official text, the row says so instead of guessing.

- TE2 / RQD: single level since 1 April 2022 (avenant 9, UNCAM decision, JO of 17 February
  2022); TE2 23 € from 1 January 2026, RQD unchanged; the cap is « 4 actes par an, par
  médecin requis [requérant], pour un même patient » (services/acts.py counts it that way).
- TCG: the in-person G rose to 30 € on 22 December 2024 (ameli.fr); most sources say the
  teleconsultation stayed at 25 €, two say 26,50 €: still to check.
- Ambulance and VSL: avenant 11 (JO of 6 May 2023) raised every part of the tariff from
  6 November 2023, then on 1 January 2025, with a higher grid for companies whose vehicles
  are all geolocated and bill through SEFi (from 6 May 2024). Its amounts and the Cantal's VSL
  zone were not found in an official text: the 2013 and 2021 amounts stay, marked as such.
"""

from django.db import migrations

_TE_OLD_PREFIX = "ameli.fr, « La téléexpertise » ; vidal.fr « Téléexpertise : médecins libéraux »"
_RQD_OLD_PREFIX = "vidal.fr et omnidoc.fr (téléexpertise, tarifs 2026) : RQD 10 €"
_TCG_OLD_PREFIX = "ameli.fr, « La téléconsultation » (exercice coordonné > télémédecine)"

ACT_SOURCES = {
    # code: (prefix of the source 0002 wrote, the source now)
    "TE2": (
        _TE_OLD_PREFIX,
        "Décision UNCAM (avenant 9, JO du 17/02/2022) : TE2 20 € au 01/04/2022, « dans la limite "
        "de 4 actes par an, par médecin requis, pour un même patient » ; 23 € au 01/01/2026 "
        "(omnidoc.fr, vidal.fr). À vérifier sur ameli.fr.",
    ),
    "RQD": (
        _RQD_OLD_PREFIX,
        "Décision UNCAM (avenant 9, JO du 17/02/2022) : RQD 10 € au 01/04/2022, 4 actes par an "
        "par médecin requérant pour un même patient ; inchangé au 01/01/2026 (omnidoc.fr). À "
        "vérifier sur ameli.fr.",
    ),
    "TCG": (
        _TCG_OLD_PREFIX,
        "ameli.fr : téléconsultation remboursée depuis le 15/09/2018 (avenant 6), TCG 25 €. La "
        "consultation G est à 30 € depuis le 22/12/2024 (ameli.fr) ; la plupart des sources "
        "donnent la téléconsultation inchangée à 25 €, deux à 26,50 €. À vérifier.",
    ),
}

TRANSPORT_SOURCES = {
    # mode: (prefix of the source 0003 wrote, the source now)
    "ambulance": (
        "ameli.fr, « Ambulances : les tarifs conventionnels », tarifs au 01/02/2013",
        "ameli.fr, tarifs au 01/02/2013 : forfait départemental 51,30 € (3 premiers km inclus), "
        "2,19 €/km. Revalorisés par l'avenant 11 (JO du 06/05/2023) au 06/11/2023 puis au "
        "01/01/2025, grille majorée (SEFi) au 06/05/2024 : montants non "
        "confirmés, à saisir depuis ameli.fr ou la CPAM du Cantal.",
    ),
    "vsl": (
        "ameli.fr, « VSL : les tarifs conventionnels », au 08/03/2021",
        "ameli.fr, au 08/03/2021 : forfait départemental zone D 11,97 € (A 13,85 ; B 13,45 ; "
        "C 12,60), 3 premiers km inclus, 1,02 €/km. Zone du Cantal et montants de l'avenant 11 "
        "(06/11/2023, 01/01/2025, grille majorée au 06/05/2024) non confirmés : à saisir depuis "
        "ameli.fr ou la CPAM du Cantal.",
    ),
}


def write_sources(apps, schema_editor):
    ActTariff = apps.get_model("telehealth", "ActTariff")
    TransportTariff = apps.get_model("telehealth", "TransportTariff")
    for code, (old_prefix, source) in ACT_SOURCES.items():
        ActTariff.objects.filter(code=code, source__startswith=old_prefix).update(source=source)
    for mode, (old_prefix, source) in TRANSPORT_SOURCES.items():
        TransportTariff.objects.filter(mode=mode, source__startswith=old_prefix).update(
            source=source
        )


class Migration(migrations.Migration):
    dependencies = [("telehealth", "0004_history_snapshots")]

    operations = [migrations.RunPython(write_sources, migrations.RunPython.noop)]
