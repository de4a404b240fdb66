"""Why a tiers-lieux operation was refused, in French, with the HTTP status the API answers.

These subclass booking's errors rather than standing beside them: a desk booking goes through
the booking engine, a status listener may only stop a booking change by raising a BookingError
(booking.hooks), and views and the API already turn any BookingError into a message and its
status code. So `except BookingError` catches both, and `except BookingForbidden` also catches
CoworkingForbidden."""

from cybercantal.booking.errors import (
    BookingConflict,
    BookingError,
    BookingForbidden,
    BookingRuleError,
)


class CoworkingError(BookingError):
    """Base of the module's errors: `.message` in French, `.status_code` for the API."""

    status_code = 422


class CoworkingRuleError(CoworkingError, BookingRuleError):
    """The request breaks a rule: no credit left, pass not valid that day, place closed…"""

    status_code = 422


class CoworkingConflict(CoworkingError, BookingConflict):
    """The request collides with what is already recorded (a second check-in the same day)."""

    status_code = 409


class CoworkingForbidden(CoworkingError, BookingForbidden):
    """The actor may not do this (not a manager of this place)."""

    status_code = 403
