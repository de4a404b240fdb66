"""Models of the tiers-lieux network (network.py), members (members.py), volunteers' shifts
(shifts.py) and the operators' invoices (invoices.py)."""

from .invoices import Invoice, InvoiceLine, InvoiceSeries, Payment
from .members import MemberProfile, SettlementRule
from .network import CheckIn, CreditMovement, DeskBooking, Offer, Pass, TiersLieu
from .shifts import VolunteerShift

__all__ = [
    "CheckIn",
    "CreditMovement",
    "DeskBooking",
    "Invoice",
    "InvoiceLine",
    "InvoiceSeries",
    "MemberProfile",
    "Offer",
    "Pass",
    "Payment",
    "SettlementRule",
    "TiersLieu",
    "VolunteerShift",
]
