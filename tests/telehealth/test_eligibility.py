"""The eligibility helper (eligibility.py): a pure function of the facts and the day, the
version of the rules in force that day, each condition met / not met / exempted with a French
explanation, and the summary; the facts read from a consultation; the template include."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from cybercantal.telehealth.eligibility import (
    RULE_VERSIONS,
    Facts,
    Status,
    assess,
    assess_consultation,
    facts_for_consultation,
    rules_on,
)
from cybercantal.telehealth.models import PriorityZoneCommune
from tests.telehealth.factories import make_consultation, make_specialty
from tests.territory.factories import CommuneFactory

D = dt.date
TODAY = D(2026, 3, 2)
MEETS = Facts(
    birth_year=1950,
    referred_by_attending_doctor=True,
    seen_in_person_within_12_months=True,
    lives_in_territory=True,
)
MISSES = Facts(
    birth_year=1950,
    referred_by_attending_doctor=False,
    seen_in_person_within_12_months=False,
    lives_in_territory=False,
    in_priority_zone=False,
)


def by_key(assessment):
    return {c.key: c for c in assessment.conditions}


def statuses(assessment):
    return {c.key: c.status for c in assessment.conditions}


def test_all_conditions_met():
    result = assess(MEETS, on=TODAY)
    assert statuses(result) == {
        "pathway": Status.MET,
        "alternation": Status.MET,
        "territory": Status.MET,
    }
    assert result.meets_conditions
    assert result.summary == "Remplit a priori les conditions de prise en charge."
    assert all(c.explanation for c in result.conditions)


def test_what_is_missing_is_said():
    result = assess(MISSES, on=TODAY)
    assert set(statuses(result).values()) == {Status.NOT_MET}
    assert not result.meets_conditions
    assert result.summary.startswith("Ne remplit pas a priori les conditions de prise en charge.")
    for label in ("parcours de soins coordonné", "alternance", "ancrage territorial"):
        assert label in result.summary
    assert by_key(result)["pathway"].status_label == "Non remplie"


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"is_care_home_resident": True}, "réside en EHPAD"),
        ({"birth_year": 2015}, "moins de 16 ans"),
        ({"is_emergency": True}, "situation d'urgence"),
        ({"has_attending_doctor": False}, "pas de médecin traitant"),
    ],
)
def test_exemptions_of_the_pathway_and_the_alternation(facts, reason):
    result = assess(Facts(**(MISSES.__dict__ | facts)), on=TODAY)
    conditions = by_key(result)
    for key in ("pathway", "alternation"):
        assert conditions[key].status == Status.EXEMPTED
        assert reason in conditions[key].explanation
        assert conditions[key].status_label == "Dispensée"
    # None of these exempts the territorial anchoring.
    assert conditions["territory"].status == Status.NOT_MET
    assert result.missing == ("Ancrage territorial",)


def test_a_direct_access_specialty_exempts_the_pathway_only():
    result = assess(Facts(**(MISSES.__dict__ | {"direct_access_specialty": True})), on=TODAY)
    assert statuses(result) == {
        "pathway": Status.EXEMPTED,
        "alternation": Status.NOT_MET,
        "territory": Status.NOT_MET,
    }


def test_the_priority_zone_exception_to_territorial_anchoring():
    outside = Facts(**(MEETS.__dict__ | {"lives_in_territory": False, "in_priority_zone": True}))
    territory = by_key(assess(outside, on=TODAY))["territory"]
    assert territory.status == Status.EXEMPTED
    assert "zone d'intervention prioritaire" in territory.explanation
    # Under avenant 9 the exception had another name.
    before_2024 = by_key(assess(outside, on=D(2023, 5, 1)))["territory"]
    assert "offre de soins est insuffisante" in before_2024.explanation


def test_an_unknown_zone_is_a_condition_to_check():
    unknown = Facts(**(MEETS.__dict__ | {"lives_in_territory": False, "in_priority_zone": None}))
    territory = by_key(assess(unknown, on=TODAY))["territory"]
    assert territory.status == Status.NOT_MET
    assert "vérifiez si le patient y réside" in territory.explanation


def test_rules_are_dated():
    assert [v.valid_from for v in RULE_VERSIONS] == sorted(v.valid_from for v in RULE_VERSIONS)
    assert rules_on(D(2018, 9, 14)) is None
    first = assess(MEETS, on=D(2019, 6, 1))
    assert [c.key for c in first.conditions] == ["pathway", "alternation"]
    assert by_key(first)["alternation"].label == "Connaissance préalable du patient"
    assert "Avenant 6" in str(first.version.name)
    later = assess(MEETS, on=D(2022, 4, 1))
    assert [c.key for c in later.conditions] == ["pathway", "alternation", "territory"]
    assert "Alternance" in by_key(later)["alternation"].label
    assert assess(MEETS, on=D(2024, 6, 22)).version.valid_from == D(2024, 6, 22)


def test_before_any_rule_nothing_is_assessed():
    result = assess(MEETS, on=D(2017, 1, 1))
    assert result.version is None and result.conditions == ()
    assert not result.meets_conditions
    assert "Aucune règle" in result.summary


def test_with_only_the_birth_year_an_age_of_15_or_16_is_flagged():
    # Born in 2010: on 2 March 2026 they are 15 or 16.
    result = assess(Facts(**(MISSES.__dict__ | {"birth_year": 2010})), on=TODAY)
    pathway = by_key(result)["pathway"]
    assert pathway.status == Status.NOT_MET
    assert "15 ou 16 ans" in pathway.explanation
    born_2011 = assess(Facts(**(MISSES.__dict__ | {"birth_year": 2011})), on=TODAY)
    assert by_key(born_2011)["pathway"].status == Status.EXEMPTED


def test_assess_is_pure():
    # No django_db mark: pytest-django makes any database access raise here.
    first = assess(MISSES, on=TODAY)
    second = assess(MISSES, on=TODAY)
    assert first == second
    assert first is not second


@pytest.mark.django_db
def test_the_facts_of_a_consultation():
    consultation = make_consultation(
        is_emergency=True,
        last_in_person_visit_within_12_months=True,
        referred_by_attending_doctor=False,
    )
    facts = facts_for_consultation(consultation)
    patient = consultation.patient
    assert facts == Facts(
        birth_year=patient.birth_year,
        is_care_home_resident=True,
        is_emergency=True,
        has_attending_doctor=True,
        referred_by_attending_doctor=False,
        seen_in_person_within_12_months=True,
        lives_in_territory=True,
        in_priority_zone=None,
        direct_access_specialty=False,
    )
    result = assess_consultation(consultation)
    assert result.on == timezone.localdate(consultation.scheduled_start)
    assert by_key(result)["pathway"].status == Status.EXEMPTED


@pytest.mark.django_db
def test_the_priority_zone_comes_from_the_dated_table_and_the_site_commune():
    consultation = make_consultation(
        specialty=make_specialty(code="psychiatrie", label="Psychiatrie", devices=())
    )
    day = timezone.localdate(consultation.scheduled_start)
    commune = consultation.site.place.commune
    assert facts_for_consultation(consultation).in_priority_zone is None
    other = CommuneFactory()
    PriorityZoneCommune.objects.create(commune=other, valid_from=day - dt.timedelta(days=30))
    assert facts_for_consultation(consultation).in_priority_zone is False
    PriorityZoneCommune.objects.create(commune=commune, valid_from=day)
    assert facts_for_consultation(consultation).in_priority_zone is True
    assert facts_for_consultation(consultation).direct_access_specialty is True


def test_the_include_renders_each_condition_with_text_not_only_colour():
    html = render_to_string(
        "telehealth/acts/_eligibility.html", {"assessment": assess(MISSES, on=TODAY)}
    )
    assert "Conditions de prise en charge (indicatif)" in html
    assert html.count('<th scope="row">') == 3
    assert "Non remplie" in html and "ne bloque ni la séance" in html
    assert "Conditions en vigueur le 02/03/2026" in html
    assert render_to_string("telehealth/acts/_eligibility.html", {}).strip() == ""
