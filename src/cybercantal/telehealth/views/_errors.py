"""The status a page answers when a service refuses: 403 for who may not, 409 when what was
shown changed meanwhile, 400 for the rest (the refusal is shown on the form)."""

from __future__ import annotations

from cybercantal.booking.errors import BookingConflict, BookingError, BookingForbidden


def page_status(error: BookingError) -> int:
    if isinstance(error, BookingForbidden):
        return 403
    if isinstance(error, BookingConflict):
        return 409
    return 400
