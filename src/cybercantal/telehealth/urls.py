"""/telesante/: each views module brings its own urlpatterns."""

from . import views
from .views import (
    acts,
    cancellations,
    connectivity,
    consultations,
    economics,
    expertise,
    network,
    patients,
    zoning,
)

app_name = "telehealth"
urlpatterns = [
    *views.urlpatterns,
    *consultations.urlpatterns,
    *connectivity.urlpatterns,
    *network.urlpatterns,
    *acts.urlpatterns,
    *expertise.urlpatterns,
    *economics.urlpatterns,
    *patients.urlpatterns,
    *zoning.urlpatterns,
    *cancellations.urlpatterns,
]
