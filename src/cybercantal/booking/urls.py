from django.urls import path

from .views import agenda, calendar_feeds, mine, public, waitlist

app_name = "booking"
urlpatterns = [
    # Public: choose a service, a commune, a slot; confirm; the confirmation page.
    path("", public.start, name="start"),
    path("creneaux/", public.slots, name="slots"),
    path("confirmer/", public.confirm, name="confirm"),
    path("confirmer/code/", public.confirm_code, name="confirm_code"),
    path("reservation/<str:reference>/", public.booking_done, name="booking_done"),
    # Waiting list: join (with or without an account, the SMS code), the confirmation page.
    path("liste-attente/inscription/", waitlist.waitlist_join, name="waitlist_join"),
    path("liste-attente/inscription/code/", waitlist.waitlist_code, name="waitlist_code"),
    path("liste-attente/inscription/<int:entry_id>/", waitlist.waitlist_done, name="waitlist_done"),
    # My bookings.
    path("mes-reservations/", mine.my_bookings, name="my_bookings"),
    path(
        "mes-reservations/<int:booking_id>/annuler/",
        mine.my_booking_cancel,
        name="my_booking_cancel",
    ),
    path(
        "mes-reservations/<int:booking_id>/deplacer/",
        mine.my_booking_reschedule,
        name="my_booking_reschedule",
    ),
    path(
        "mes-reservations/liste-attente/<int:entry_id>/quitter/",
        mine.my_waitlist_leave,
        name="my_waitlist_leave",
    ),
    # Calendar feeds: create one's own, revoke one's own (personal or of a resource).
    path("mes-reservations/agenda-en-ligne/", calendar_feeds.my_feed_create, name="my_feed_create"),
    path(
        "mes-reservations/agenda-en-ligne/<int:feed_id>/revoquer/",
        calendar_feeds.feed_revoke,
        name="feed_revoke",
    ),
    # Agents.
    path("agenda/", agenda.agenda, name="agenda"),
    path(
        "agenda/reservations/<int:booking_id>/annuler/",
        agenda.agenda_booking_cancel,
        name="agenda_booking_cancel",
    ),
    path(
        "agenda/reservations/<int:booking_id>/<slug:action>/",
        agenda.agenda_booking_action,
        name="agenda_booking_action",
    ),
    path("agenda/pour-une-personne/", agenda.agent_book, name="agent_book"),
    path("agenda/pour-une-personne/creneaux/", agenda.agent_book_slots, name="agent_book_slots"),
    path("agenda/annuler-une-journee/", agenda.cancel_day, name="cancel_day"),
    path("agenda/pour-une-personne/liste-attente/", waitlist.agent_waitlist, name="agent_waitlist"),
    path("agenda/agenda-en-ligne/", calendar_feeds.agenda_feed_create, name="agenda_feed_create"),
]

# iCalendar downloads and feeds, waiting-list offers (booking/feeds.py).
from .feeds import feed_urlpatterns  # noqa: E402

urlpatterns += feed_urlpatterns
