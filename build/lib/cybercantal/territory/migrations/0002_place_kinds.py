from django.db import migrations

# code, label, colour (distinct hues, each with contrast >= 3:1 against the light map tiles)
PLACE_KINDS = [
    ("tiers_lieu", "Tiers-lieu", "#1d4f91"),
    ("mediation", "Médiation numérique", "#a3301b"),
    ("france_services", "France Services", "#6a1b9a"),
    ("telehealth", "Téléconsultation", "#00695c"),
    ("school", "École", "#8d5a00"),
    ("college", "Collège", "#5d4037"),
    ("town_hall", "Mairie", "#37474f"),
    ("library", "Médiathèque", "#ad1457"),
    ("health_centre", "Maison de santé", "#2e7d32"),
    ("care_home", "EHPAD", "#0277bd"),
]


def add_kinds(apps, schema_editor):
    PlaceKind = apps.get_model("territory", "PlaceKind")
    for order, (code, label, color) in enumerate(PLACE_KINDS):
        PlaceKind.objects.update_or_create(
            code=code, defaults={"label": label, "color": color, "order": order}
        )


def remove_kinds(apps, schema_editor):
    apps.get_model("territory", "PlaceKind").objects.filter(
        code__in=[code for code, _, _ in PLACE_KINDS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("territory", "0001_initial")]
    operations = [migrations.RunPython(add_kinds, remove_kinds)]
