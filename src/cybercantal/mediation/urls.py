from django.urls import path

from .views import (
    activities,
    beneficiaries,
    coverage,
    dashboard,
    mandates,
    places,
    routes,
    tours,
    workshops,
)

app_name = "mediation"
urlpatterns = [
    path("lieux/export.csv", places.places_export_csv, name="places_export_csv"),
    path("lieux/export.json", places.places_export_json, name="places_export_json"),
    path("lieux/import/", places.places_import, name="places_import"),
    path("lieux/", places.place_description_list, name="place_description_list"),
    path(
        "lieux/<int:place_id>/description/",
        places.place_description,
        name="place_description",
    ),
    *tours.urlpatterns,
    *activities.urlpatterns,
    *beneficiaries.urlpatterns,
    *coverage.urlpatterns,
    *mandates.urlpatterns,
    *dashboard.urlpatterns,
    *workshops.urlpatterns,
    *routes.urlpatterns,
]
