"""Why an invoicing operation was refused, in French, with the HTTP status the API answers.

Like the rest of the module's errors, they subclass booking's, which views and the API already
turn into a message and its status code."""

from cybercantal.booking.errors import BookingConflict, BookingForbidden, BookingRuleError


class InvoiceError(BookingRuleError):
    """The request breaks an invoicing rule: no line, unknown VAT rate, overpayment…"""

    status_code = 422


class InvoiceForbidden(BookingForbidden):
    """The actor does not manage the operator that invoices."""

    status_code = 403


class InvoiceImmutable(BookingConflict):
    """Someone tried to change or delete an issued invoice, its lines or its payments
    outside what the invoicing services allow: a mistake is corrected by a credit note."""

    status_code = 409
