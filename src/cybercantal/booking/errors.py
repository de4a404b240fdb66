"""Why a booking operation was refused, in French, with the HTTP status the API answers."""


class BookingError(Exception):
    status_code = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BookingRuleError(BookingError):
    """The request breaks a rule: too late, outside opening hours, wrong duration…"""

    status_code = 422


class BookingConflict(BookingError):
    """The slot is taken (capacity reached), possibly by a concurrent request."""

    status_code = 409


class BookingForbidden(BookingError):
    """The actor may not do this."""

    status_code = 403
