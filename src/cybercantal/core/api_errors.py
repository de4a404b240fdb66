"""The 422 every API module gives for a parameter it refuses after ninja's own checks, in the
shape pydantic gives its value errors, so that clients read one format whatever refused."""

from __future__ import annotations

from ninja.errors import ValidationError


def parameter_error(field: str, message: str, *, source: str = "query") -> ValidationError:
    """A 422 for one parameter: a field of the body is named as ninja names it
    ("payload.start"); an empty field is the request as a whole (a booking rule)."""
    loc = ("body", "payload", field) if source == "body" and field else (source, field)
    return ValidationError(
        [
            {
                "loc": loc,
                "msg": message,
                "type": "value_error",
                "ctx": {"error": message},
            }
        ]
    )
