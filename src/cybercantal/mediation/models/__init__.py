"""Models of digital mediation: places described in the national schema (places.py) and
mediators' itinerant tours (tours.py)."""

from .places import MediationPlace
from .tours import Tour, TourStop

__all__ = ["MediationPlace", "Tour", "TourStop"]
