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
