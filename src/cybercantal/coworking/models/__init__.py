"""Models of the tiers-lieux network (network.py), members (members.py), volunteers' shifts
(shifts.py), the operators' invoices (invoices.py) and online payment attempts (payments.py)."""

from .invoices import Invoice, InvoiceLine, InvoiceSeries, Payment
from .members import MemberProfile, SettlementRule
from .network import CheckIn, CreditMovement, DeskBooking, Offer, Pass, TiersLieu
from .payments import OnlinePayment
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
    "OnlinePayment",
    "Pass",
    "Payment",
    "SettlementRule",
    "TiersLieu",
    "VolunteerShift",
]
