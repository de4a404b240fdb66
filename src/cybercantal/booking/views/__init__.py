"""The booking pages, by audience.

- public: choose a service, a commune and a slot; confirm it (one click when signed in, else an
  SMS code); the confirmation page.
- mine: "Mes réservations": cancel, reschedule, leave the waiting list.
- waitlist: joining the waiting list, alone or through an agent.
- agenda: the agents' agenda, actions on a booking, booking for someone, cancelling a day.
- calendar_feeds: personal and resource calendar feeds (create, revoke).
- home_entries: the booking entries of the home page and the navigation.
- _common: what these share (words for dates, agents' resources); the SMS code that confirms
  a phone is booking/phone_confirmation.py, public for the modules' own registration pages.

Everything works without JavaScript (GET forms for searches, POST forms for writes); htmx only
refreshes the free slots of the agent's booking form in place. Reads go through
booking.selectors (scoped to the visitor), writes through booking.services; their refusals
(BookingRuleError, BookingConflict, BookingForbidden) are shown as French messages on the page,
never as an error page."""

from .home_entries import register_home_entries

__all__ = ["register_home_entries"]
