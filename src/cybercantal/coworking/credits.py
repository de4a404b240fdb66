"""Credits of passes follow desk bookings (booking.hooks): consumed when a booking is
confirmed, given back when it is cancelled before the resource's cancellation deadline.
Filled in by the credits service (coworking/services/credits.py)."""


def on_booking_status(booking, *, from_status: str, to_status: str, actor) -> None:
    from .services.credits import credits_follow_booking

    credits_follow_booking(booking, from_status=from_status, to_status=to_status, actor=actor)
