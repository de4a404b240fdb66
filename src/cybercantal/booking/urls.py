from django.urls import path

from . import views

app_name = "booking"
urlpatterns = [
    # Public: choose a service, a commune, a slot; confirm; the confirmation page.
    path("", views.start, name="start"),
    path("creneaux/", views.slots, name="slots"),
    path("confirmer/", views.confirm, name="confirm"),
    path("confirmer/code/", views.confirm_code, name="confirm_code"),
    path("reservation/<str:reference>/", views.booking_done, name="booking_done"),
    # My bookings.
    path("mes-reservations/", views.my_bookings, name="my_bookings"),
    path(
        "mes-reservations/<int:booking_id>/annuler/",
        views.my_booking_cancel,
        name="my_booking_cancel",
    ),
    path(
        "mes-reservations/<int:booking_id>/deplacer/",
        views.my_booking_reschedule,
        name="my_booking_reschedule",
    ),
    # Agents.
    path("agenda/", views.agenda, name="agenda"),
    path(
        "agenda/reservations/<int:booking_id>/annuler/",
        views.agenda_booking_cancel,
        name="agenda_booking_cancel",
    ),
    path(
        "agenda/reservations/<int:booking_id>/<slug:action>/",
        views.agenda_booking_action,
        name="agenda_booking_action",
    ),
    path("agenda/pour-une-personne/", views.agent_book, name="agent_book"),
    path("agenda/pour-une-personne/creneaux/", views.agent_book_slots, name="agent_book_slots"),
    path("agenda/annuler-une-journee/", views.cancel_day, name="cancel_day"),
]

# iCalendar downloads and feeds, waiting-list offers (booking/feeds.py).
from .feeds import feed_urlpatterns  # noqa: E402

urlpatterns += feed_urlpatterns
