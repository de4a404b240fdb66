"""Models of digital mediation: places described in the national schema (places.py),
mediators' itinerant tours (tours.py), beneficiaries and activity reports (activities.py)."""

from .activities import Activity, Beneficiary
from .mandates import Mandate, MandateArea, MandateUse, ProcedureArea
from .places import MediationPlace
from .routes import HomeVisit
from .tours import Tour, TourStop
from .workshops import WorkshopSession, WorkshopWalkIn

__all__ = [
    "Activity",
    "Beneficiary",
    "HomeVisit",
    "Mandate",
    "MandateArea",
    "MandateUse",
    "MediationPlace",
    "ProcedureArea",
    "Tour",
    "TourStop",
    "WorkshopSession",
    "WorkshopWalkIn",
]
