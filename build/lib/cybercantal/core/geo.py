"""Distances on the territory.

Great-circle (haversine) distance between two points, and an estimate of the road distance.
Roads are longer than the straight line (the "detour index"): studies of road networks put it
around 1.2-1.3 in plains and higher where roads wind through valleys and over passes, as in the
Monts du Cantal. ROAD_FACTOR = 1.4 is our default for a mountain département: an assumption, not a
measurement, chosen so that "within 20 km" does not promise places an hour's drive away. A
département sets its own with CYBERCANTAL_ROAD_FACTOR. It ranks "near me" results; it is never a
route.
"""

import math
import os
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
ROAD_FACTOR = float(os.environ.get("CYBERCANTAL_ROAD_FACTOR", "1.4"))


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def road_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Estimated road distance: great-circle distance times ROAD_FACTOR."""
    return great_circle_km(lat1, lon1, lat2, lon2) * ROAD_FACTOR


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A box that contains every point within radius_km (great-circle) of (lat, lon).

    Used to pre-filter in the database before the exact haversine check in Python."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    return BoundingBox(lat - dlat, lat + dlat, lon - dlon, lon + dlon)
