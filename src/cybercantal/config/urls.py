from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from cybercantal.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("compte/", include("cybercantal.accounts.urls")),
    path("reservations/", include("cybercantal.booking.urls")),
    path("", include("cybercantal.territory.urls")),
    path("", include("cybercantal.core.urls")),
]
# Modules above the booking engine can be switched off by removing them from INSTALLED_APPS.
if apps.is_installed("cybercantal.coworking"):
    urlpatterns.insert(-2, path("tiers-lieux/", include("cybercantal.coworking.urls")))
if apps.is_installed("cybercantal.mediation"):
    urlpatterns.insert(-2, path("mediation/", include("cybercantal.mediation.urls")))
if apps.is_installed("cybercantal.telehealth"):
    urlpatterns.insert(-2, path("telesante/", include("cybercantal.telehealth.urls")))
