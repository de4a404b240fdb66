"""Eligibility helper: does a teleconsultation meet, a priori, the conditions for the health
insurance to pay for it? Informative only: it never blocks a booking or an act, it tells the
professionals what to check.

`assess(facts, on=day)` is a pure function of the facts and the day: it picks the version of
the rules in force that day (RULE_VERSIONS, a dated table like the tariffs) and returns each
condition met, not met or exempted, with an explanation in French, and a summary.

The conditions (ameli.fr, « La téléconsultation », conditions de prise en charge):
- coordinated care pathway: the patient is oriented by their médecin traitant (or the
  teleconsulting doctor is the médecin traitant);
- knowledge of the patient / alternation with in-person visits: seen in person in the last 12
  months (a hard condition from avenant 6, a principle of alternation since avenant 9, for
  which the same fact is the best sign the platform has);
- territorial anchoring: the patient lives in the practitioner's territory, except in a
  priority zone (« zone caractérisée par une offre de soins insuffisante » under avenant 8 and
  9, « zone d'intervention prioritaire » under the 2024 convention).
Exemptions: care-home residents, under-16s, emergencies, patients without a médecin traitant,
and the specialties of direct access (gynaecology, ophthalmology, psychiatry, paediatrics,
stomatology) for the pathway. Start dates of each version are to be checked by the staff like
the tariffs (see each version's `source`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .selectors.zoning import ZoneLookup, priority_zone_lookup

# Specialties a patient may see without being oriented by the médecin traitant (codes of
# Specialty; the platform's own slugs).
DIRECT_ACCESS_SPECIALTIES = frozenset(
    {
        "gynecologie",
        "ophtalmologie",
        "psychiatrie",
        "neuropsychiatrie",
        "pediatrie",
        "stomatologie",
        "chirurgie-orale",
        "chirurgie-maxillo-faciale",
    }
)


@dataclass(frozen=True)
class Facts:
    """What the platform knows about a teleconsultation, and nothing about health.

    `in_priority_zone`: None when unknown (no priority zone recorded at all: see
    selectors/zoning.py)."""

    birth_year: int
    is_care_home_resident: bool = False
    is_emergency: bool = False
    has_attending_doctor: bool = True
    referred_by_attending_doctor: bool = False
    seen_in_person_within_12_months: bool = False
    lives_in_territory: bool = True
    in_priority_zone: bool | None = None
    direct_access_specialty: bool = False


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    EXEMPTED = "exempted"


STATUS_LABELS = {
    Status.MET: gettext_lazy("Remplie"),
    Status.NOT_MET: gettext_lazy("Non remplie"),
    Status.EXEMPTED: gettext_lazy("Dispensée"),
}


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    status: Status
    explanation: str

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_blocking(self) -> bool:
        return self.status == Status.NOT_MET


@dataclass(frozen=True)
class Assessment:
    on: dt.date
    version: RuleVersion | None
    conditions: tuple[Condition, ...]
    summary: str
    missing: tuple[str, ...] = ()

    @property
    def meets_conditions(self) -> bool:
        return self.version is not None and not self.missing


# --- exemptions: (key, predicate on facts and day, French reason) -------------------------


def _age_bounds(facts: Facts, on: dt.date) -> tuple[int, int]:
    """Only the birth year is kept: the age on `on` is one of these two."""
    years = on.year - facts.birth_year
    return max(years - 1, 0), years


@dataclass(frozen=True)
class Exemption:
    key: str
    applies: Callable[[Facts, dt.date], bool]
    reason: str


EXEMPTIONS = {
    "care_home": Exemption(
        "care_home",
        lambda f, on: f.is_care_home_resident,
        gettext_lazy("le patient réside en EHPAD"),
    ),
    "under_16": Exemption(
        "under_16",
        # Certain only when even the older possible age is under 16.
        lambda f, on: _age_bounds(f, on)[1] < 16,
        gettext_lazy("le patient a moins de 16 ans"),
    ),
    "emergency": Exemption(
        "emergency", lambda f, on: f.is_emergency, gettext_lazy("situation d'urgence")
    ),
    "no_attending_doctor": Exemption(
        "no_attending_doctor",
        lambda f, on: not f.has_attending_doctor,
        gettext_lazy("le patient n'a pas de médecin traitant"),
    ),
    "direct_access": Exemption(
        "direct_access",
        lambda f, on: f.direct_access_specialty,
        gettext_lazy("spécialité en accès direct"),
    ),
    "priority_zone": Exemption(
        "priority_zone",
        lambda f, on: bool(f.in_priority_zone),
        gettext_lazy("le patient réside en zone d'intervention prioritaire"),
    ),
    "underserved_zone": Exemption(
        "underserved_zone",
        lambda f, on: bool(f.in_priority_zone),
        gettext_lazy("le patient réside dans une zone où l'offre de soins est insuffisante"),
    ),
}


# --- conditions --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionRule:
    key: str
    label: str
    is_met: Callable[[Facts, dt.date], bool]
    met_text: str
    not_met_text: str
    exemptions: tuple[str, ...] = ()
    # Said when the condition is not met and a fact that could exempt it is unknown.
    unknown_hint: Callable[[Facts, dt.date], str] | None = None


@dataclass(frozen=True)
class RuleVersion:
    valid_from: dt.date
    name: str
    source: str
    conditions: tuple[ConditionRule, ...] = field(default_factory=tuple)


_PATHWAY = ConditionRule(
    key="pathway",
    label=gettext_lazy("Parcours de soins coordonné"),
    is_met=lambda f, on: f.referred_by_attending_doctor,
    met_text=gettext_lazy(
        "Le patient est orienté par son médecin traitant (ou le médecin téléconsultant est son "
        "médecin traitant)."
    ),
    not_met_text=gettext_lazy(
        "Le patient n'est pas indiqué comme orienté par son médecin traitant."
    ),
    exemptions=("care_home", "under_16", "emergency", "no_attending_doctor", "direct_access"),
    unknown_hint=lambda f, on: _sixteen_hint(f, on),
)


def _sixteen_hint(facts: Facts, on: dt.date) -> str:
    low, high = _age_bounds(facts, on)
    if low < 16 <= high:
        return str(_("Le patient a 15 ou 16 ans : vérifiez sa date de naissance."))
    return ""


_KNOWN_PATIENT = ConditionRule(
    key="alternation",
    label=gettext_lazy("Connaissance préalable du patient"),
    is_met=lambda f, on: f.seen_in_person_within_12_months,
    met_text=gettext_lazy("Le patient a été vu en présentiel par ce médecin dans les 12 mois."),
    not_met_text=gettext_lazy(
        "Le patient n'a pas été vu en présentiel par ce médecin dans les 12 derniers mois."
    ),
    exemptions=("care_home", "under_16", "emergency", "no_attending_doctor"),
    unknown_hint=_sixteen_hint,
)

_ALTERNATION = ConditionRule(
    key="alternation",
    label=gettext_lazy("Alternance avec des consultations en présentiel"),
    is_met=lambda f, on: f.seen_in_person_within_12_months,
    met_text=gettext_lazy(
        "Le patient a été vu en présentiel par ce médecin dans les 12 mois : la "
        "téléconsultation alterne avec des consultations en présentiel."
    ),
    not_met_text=gettext_lazy(
        "Pas de consultation en présentiel avec ce médecin dans les 12 derniers mois : "
        "prévoyez une alternance avec des consultations en présentiel."
    ),
    exemptions=("care_home", "under_16", "emergency", "no_attending_doctor"),
    unknown_hint=_sixteen_hint,
)


def _zone_hint(facts: Facts, on: dt.date) -> str:
    if facts.in_priority_zone is None:
        return str(
            _(
                "La liste des communes en zone prioritaire n'est pas renseignée sur la "
                "plateforme : vérifiez si le patient y réside (exception à l'ancrage territorial)."
            )
        )
    return ""


def _territory(exemption: str) -> ConditionRule:
    return ConditionRule(
        key="territory",
        label=gettext_lazy("Ancrage territorial"),
        is_met=lambda f, on: f.lives_in_territory,
        met_text=gettext_lazy("Le patient réside dans le territoire du médecin téléconsultant."),
        not_met_text=gettext_lazy(
            "Le patient ne réside pas dans le territoire du médecin téléconsultant."
        ),
        exemptions=(exemption,),
        unknown_hint=_zone_hint,
    )


# Newest last. A version replaces the previous one from its `valid_from`.
RULE_VERSIONS: tuple[RuleVersion, ...] = (
    RuleVersion(
        valid_from=dt.date(2018, 9, 15),
        name=gettext_lazy("Avenant 6 à la convention médicale"),
        source=gettext_lazy(
            "ameli.fr, « La téléconsultation » : remboursement depuis le 15/09/2018 ; patient "
            "orienté par le médecin traitant et connu du téléconsultant (présentiel dans les 12 "
            "mois). À vérifier."
        ),
        conditions=(_PATHWAY, _KNOWN_PATIENT),
    ),
    RuleVersion(
        valid_from=dt.date(2022, 4, 1),
        name=gettext_lazy("Avenant 9 à la convention médicale"),
        source=gettext_lazy(
            "Avenant 9 (en vigueur le 01/04/2022) : alternance présentiel / téléconsultation à la "
            "place de la connaissance préalable ; ancrage territorial (introduit par l'avenant 8) "
            "sauf zone où l'offre de soins est insuffisante. À vérifier."
        ),
        conditions=(_PATHWAY, _ALTERNATION, _territory("underserved_zone")),
    ),
    RuleVersion(
        valid_from=dt.date(2024, 6, 22),
        name=gettext_lazy("Convention médicale 2024-2029"),
        source=gettext_lazy(
            "Convention médicale approuvée par l'arrêté du 20/06/2024 : l'exception à l'ancrage "
            "territorial vise les zones d'intervention prioritaire (ZIP). À vérifier."
        ),
        conditions=(_PATHWAY, _ALTERNATION, _territory("priority_zone")),
    ),
)


def rules_on(day: dt.date, versions: Sequence[RuleVersion] = RULE_VERSIONS) -> RuleVersion | None:
    """The version of the rules in force on `day`, None before the first one."""
    in_force = [v for v in versions if v.valid_from <= day]
    return max(in_force, key=lambda v: v.valid_from) if in_force else None


def _evaluate(rule: ConditionRule, facts: Facts, on: dt.date) -> Condition:
    if rule.is_met(facts, on):
        return Condition(rule.key, str(rule.label), Status.MET, str(rule.met_text))
    reasons = [
        str(EXEMPTIONS[key].reason) for key in rule.exemptions if EXEMPTIONS[key].applies(facts, on)
    ]
    if reasons:
        return Condition(
            rule.key,
            str(rule.label),
            Status.EXEMPTED,
            _("Dispensé : %(reasons)s.") % {"reasons": ", ".join(reasons)},
        )
    text = str(rule.not_met_text)
    hint = rule.unknown_hint(facts, on) if rule.unknown_hint else ""
    return Condition(rule.key, str(rule.label), Status.NOT_MET, f"{text} {hint}".strip())


def assess(
    facts: Facts, *, on: dt.date, versions: Sequence[RuleVersion] = RULE_VERSIONS
) -> Assessment:
    """Each condition of the rules in force on `on`, and a summary. Pure: same facts and day,
    same answer; nothing is read from or written to the database."""
    version = rules_on(on, versions)
    if version is None:
        return Assessment(
            on=on,
            version=None,
            conditions=(),
            summary=_(
                "Aucune règle de prise en charge de la téléconsultation n'était en vigueur à "
                "cette date."
            ),
        )
    conditions = tuple(_evaluate(rule, facts, on) for rule in version.conditions)
    missing = tuple(c.label for c in conditions if c.is_blocking)
    if missing:
        summary = _(
            "Ne remplit pas a priori les conditions de prise en charge. À vérifier : %(missing)s."
        ) % {"missing": ", ".join(m.lower() for m in missing)}
    else:
        summary = _("Remplit a priori les conditions de prise en charge.")
    return Assessment(
        on=on, version=version, conditions=conditions, summary=summary, missing=missing
    )


# --- from the platform's records ----------------------------------------------------------


def facts_for_consultation(consultation, *, zones: ZoneLookup | None = None) -> Facts:
    """The facts of a consultation as recorded when it was booked. The patient's commune is
    approximated by the site's (care-home residents live there); it is in a priority zone if
    the zoning in force on the consultation's day says so. `zones`: the table read once for a
    list of consultations; read here (one query) when not given."""
    patient = consultation.patient
    zones = zones if zones is not None else priority_zone_lookup()
    commune_id = getattr(consultation.site.place, "commune_id", None)
    in_zone = zones.in_zone(commune_id, timezone.localdate(consultation.scheduled_start))
    return Facts(
        birth_year=patient.birth_year,
        is_care_home_resident=patient.is_care_home_resident,
        is_emergency=consultation.is_emergency,
        has_attending_doctor=patient.has_attending_doctor,
        referred_by_attending_doctor=consultation.referred_by_attending_doctor,
        seen_in_person_within_12_months=consultation.last_in_person_visit_within_12_months,
        lives_in_territory=patient.lives_in_territory,
        in_priority_zone=in_zone,
        direct_access_specialty=consultation.specialty.code in DIRECT_ACCESS_SPECIALTIES,
    )


def assess_consultation(consultation, *, zones: ZoneLookup | None = None) -> Assessment:
    day = timezone.localdate(consultation.scheduled_start)
    return assess(facts_for_consultation(consultation, zones=zones), on=day)
