"""Models of the tiers-lieux network (network.py) and of the operators' invoices
(invoices.py)."""

from .invoices import Invoice, InvoiceLine, InvoiceSeries, Payment
from .members import MemberProfile, SettlementRule
from .network import CheckIn, CreditMovement, DeskBooking, Offer, Pass, TiersLieu

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
]
