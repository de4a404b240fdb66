"""Models of teleconsultation: sites and equipment (sites.py), practitioners, assisting
professionals, specialties and patients (people.py), consultations and incidents
(consultations.py), tariffs and acts (acts.py), téléexpertise (expertise.py) and the cost
ledger (economics.py), the priority zones of the eligibility helper (zoning.py)."""

from .acts import Act, ActRole, ActTariff, TransportTariff
from .consultations import Consultation, Incident, TransportMode
from .economics import CostEntry
from .expertise import ExpertiseAttachment, ExpertiseRequest
from .people import AssistantKind, AssistingProfessional, Patient, Practitioner, Specialty
from .sites import ConnectivityTest, DeviceKind, Equipment, ReferenceHospital, Site
from .zoning import PriorityZoneCommune

__all__ = [
    "Act",
    "ActRole",
    "ActTariff",
    "AssistantKind",
    "AssistingProfessional",
    "ConnectivityTest",
    "Consultation",
    "CostEntry",
    "DeviceKind",
    "Equipment",
    "ExpertiseAttachment",
    "ExpertiseRequest",
    "Incident",
    "Patient",
    "Practitioner",
    "PriorityZoneCommune",
    "ReferenceHospital",
    "Site",
    "Specialty",
    "TransportMode",
    "TransportTariff",
]
