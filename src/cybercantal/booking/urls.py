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
    # Waiting list: join (with or without an account, the SMS code), the confirmation page.
    path("liste-attente/inscription/", views.waitlist_join, name="waitlist_join"),
    path("liste-attente/inscription/code/", views.waitlist_code, name="waitlist_code"),
    path("liste-attente/inscription/<int:entry_id>/", views.waitlist_done, name="waitlist_done"),
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
    path(
        "mes-reservations/liste-attente/<int:entry_id>/quitter/",
        views.my_waitlist_leave,
        name="my_waitlist_leave",
    ),
    # Calendar feeds: create one's own, revoke one's own (personal or of a resource).
    path("mes-reservations/agenda-en-ligne/", views.my_feed_create, name="my_feed_create"),
    path(
        "mes-reservations/agenda-en-ligne/<int:feed_id>/revoquer/",
        views.feed_revoke,
        name="feed_revoke",
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
    path("agenda/pour-une-personne/liste-attente/", views.agent_waitlist, name="agent_waitlist"),
    path("agenda/agenda-en-ligne/", views.agenda_feed_create, name="agenda_feed_create"),
]

# iCalendar downloads and feeds, waiting-list offers (booking/feeds.py).
from .feeds import feed_urlpatterns  # noqa: E402

urlpatterns += feed_urlpatterns
