from django.urls import path

from . import views

app_name = "territory"
urlpatterns = [
    path("recherche/", views.search, name="search"),
    path("recherche/suggestions/", views.search_suggestions, name="search_suggestions"),
    path("communes/<str:insee_code>/", views.commune_detail, name="commune_detail"),
    path("lieux/<int:place_id>/", views.place_detail, name="place_detail"),
    path("carte/communes.geojson", views.communes_geojson, name="communes_geojson"),
    path("carte/lieux.geojson", views.places_geojson, name="places_geojson"),
]
