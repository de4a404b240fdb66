"""Distances: haversine against independent figures, the road estimate, the bounding box."""

import math

import pytest

from cybercantal.core.geo import (
    EARTH_RADIUS_KM,
    ROAD_FACTOR,
    bounding_box,
    great_circle_km,
    road_km,
)

# Points of data/territories/15/communes.csv.
AURILLAC = (44.92456, 2.44197)
SAINT_FLOUR = (45.02867, 3.08281)


def destination(lat: float, lon: float, bearing_deg: float, distance_km: float):
    """The point reached from (lat, lon) after distance_km along a great circle
    (the "direct" problem on a sphere; Movable Type's "destination point" formula)."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), distance_km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lambda2)


def law_of_cosines_km(lat1, lon1, lat2, lon2) -> float:
    """Another formula for the same great-circle distance, to check the haversine against."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    cos_angle = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(
        math.radians(lon2 - lon1)
    )
    return EARTH_RADIUS_KM * math.acos(min(1.0, cos_angle))


def test_one_degree_of_latitude():
    # Along a meridian, one degree is a 360th of the circumference: 111.195 km.
    assert great_circle_km(45.0, 2.5, 46.0, 2.5) == pytest.approx(111.195, abs=0.001)


def test_zero_and_symmetry():
    assert great_circle_km(*AURILLAC, *AURILLAC) == 0
    assert great_circle_km(*AURILLAC, *SAINT_FLOUR) == great_circle_km(*SAINT_FLOUR, *AURILLAC)


def test_aurillac_saint_flour():
    distance = great_circle_km(*AURILLAC, *SAINT_FLOUR)
    # The same value by another formula…
    assert distance == pytest.approx(law_of_cosines_km(*AURILLAC, *SAINT_FLOUR), abs=0.001)
    # …and the published straight-line distance between the two towns, about 53 km
    # (town centre to town centre; the CSV points are inside the communes, not at the centres).
    assert distance == pytest.approx(53, abs=2)


def test_long_distance_against_a_published_figure():
    # Paris (Notre-Dame) – Marseille (Vieux-Port): 661 km as the crow flies.
    assert great_circle_km(48.8530, 2.3499, 43.2951, 5.3744) == pytest.approx(661, abs=5)


def test_road_distance_is_the_great_circle_times_the_factor():
    assert ROAD_FACTOR >= 1
    distance = great_circle_km(*AURILLAC, *SAINT_FLOUR)
    assert road_km(*AURILLAC, *SAINT_FLOUR) == pytest.approx(distance * ROAD_FACTOR)


@pytest.mark.parametrize("centre", [AURILLAC, (0.0, 0.0), (69.65, 18.96), (-45.0, 170.0)])
@pytest.mark.parametrize("radius_km", [0.5, 20, 100])
def test_bounding_box_contains_the_circle(centre, radius_km):
    box = bounding_box(*centre, radius_km)
    for bearing in range(0, 360, 5):
        lat, lon = destination(*centre, bearing, radius_km * 0.9999)
        assert box.min_lat <= lat <= box.max_lat, bearing
        assert box.min_lon <= lon <= box.max_lon, bearing


def test_bounding_box_is_not_much_larger_than_the_circle():
    box = bounding_box(*AURILLAC, 20)
    north, east = destination(*AURILLAC, 0, 20), destination(*AURILLAC, 90, 20)
    assert box.max_lat == pytest.approx(north[0], abs=1e-6)
    assert box.max_lon == pytest.approx(east[1], abs=1e-3)
