"""Models of digital mediation: places described in the national schema (places.py),
mediators' itinerant tours (tours.py), beneficiaries and activity reports (activities.py)."""

from .activities import Activity, Beneficiary
from .places import MediationPlace
from .tours import Tour, TourStop

__all__ = ["Activity", "Beneficiary", "MediationPlace", "Tour", "TourStop"]
