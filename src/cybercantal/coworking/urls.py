"""URLs of the tiers-lieux network (mounted at /tiers-lieux/): each page family's module keeps
its own urlpatterns."""

from .views import figures, manage, member, member_profile, member_rooms, network, payments

app_name = "coworking"

urlpatterns = [
    *network.urlpatterns,
    *member.urlpatterns,
    *member_profile.urlpatterns,
    *member_rooms.urlpatterns,
    *manage.urlpatterns,
    *figures.urlpatterns,
    *payments.urlpatterns,
]
