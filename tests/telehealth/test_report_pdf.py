"""The printable yearly report (telehealth/report_pdf.py) drawn from a real report: every figure
of the tables in its row and column, headings wrapped inside their cells, paragraphs cut within
the page, the whole font used only when the French cut of it lacks a character, and the title
and language a screen reader announces."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from fpdf import FPDF

from cybercantal.core.notifications.letters import FONT_FAMILY
from cybercantal.telehealth import report_pdf
from cybercantal.telehealth.models import TransportTariff
from cybercantal.telehealth.report_pdf import (
    PAGE_WIDTH_MM,
    economics_report_pdf,
    month_headers,
    month_label,
    month_row,
)
from cybercantal.telehealth.selectors.economics import network_economics, site_economics
from cybercantal.territory.models import Place
from tests.core.pdf_text import page_count, text_runs
from tests.core.pdf_text import text as pdf_text
from tests.telehealth.factories import make_site, staff_user
from tests.telehealth.test_economics import act_tariff, code_act, held, set_tariffs, team_at

pytestmark = pytest.mark.django_db

YEAR = 2024
DAY = dt.date(2025, 2, 3)
# A tariff's source as the team pastes it: long, with an address longer than a table column.
SOURCE = (
    "Convention nationale des transporteurs sanitaires privés, avenant 11, grille majorée "
    "applicable dans le Cantal : https://www.ameli.fr/cantal/transporteur-sanitaire/exercice-"
    "professionnel/nomenclature-tarification/tarifs-conventionnels-vsl-et-ambulances-2024"
)


@pytest.fixture
def world():
    staff = staff_user()
    set_tariffs(staff)
    site = make_site(distance_km=Decimal("53.0"), travel_minutes=45, opened_on=dt.date(2023, 1, 1))
    other = make_site(distance_km=Decimal("23.0"), travel_minutes=30, opened_on=dt.date(2024, 4, 1))
    team, other_team = team_at(site), team_at(other)
    consultations = [
        held(team, dt.date(YEAR, 3, 11)),
        held(team, dt.date(YEAR, 3, 12), mode="ambulance", status="incident"),
        held(team, dt.date(YEAR, 7, 16)),
        held(other_team, dt.date(YEAR, 8, 12), mode="personnel"),
    ]
    tariff = act_tariff("ZTC", "medecin", "25")
    for consultation in consultations:
        code_act(consultation, tariff, consultation.practitioner.user)
    TransportTariff.objects.filter(mode="ambulance").update(source=SOURCE)
    return {"staff": staff, "site": site}


def rows_drawn(pdf: bytes) -> list[list[str]]:
    """The pieces of text drawn one after the other on the same line: a table's row, cell by
    cell, or a line of a paragraph."""
    rows: list[list[str]] = []
    previous_y = None
    for run in text_runs(pdf):
        if run.y != previous_y:
            rows.append([])
        rows[-1].append(run.text)
        previous_y = run.y
    return rows


def test_every_month_and_the_total_are_drawn_cell_by_cell_in_order(world):
    report = network_economics(actor=world["staff"], year=YEAR)
    pdf = economics_report_pdf(report, generated_on=DAY)
    drawn = rows_drawn(pdf)
    expected = [month_row(m, month_label(m.month)) for m in report.months]
    expected.append(month_row(report.total, "Total"))
    for row in expected:
        assert row in drawn, row
    march = month_row(report.months[2], month_label(report.months[2].month))
    assert march[1:3] == ["2", "1"]  # two held in March, one of them with an incident


def test_headings_wrap_inside_their_cells_and_keep_every_word(world):
    report = site_economics(actor=world["staff"], site=world["site"], year=YEAR)
    text = pdf_text(economics_report_pdf(report, generated_on=DAY))
    for heading in month_headers():
        for word in heading.split():
            assert word in text
    # "Téléconsultations réalisées" is wider than its 30 mm column: two lines, not one.
    assert "Téléconsultations\nréalisées" in text


def test_a_long_source_is_cut_within_the_page_and_nothing_is_lost(world):
    report = network_economics(actor=world["staff"], year=YEAR)
    pdf = economics_report_pdf(report, generated_on=DAY)
    runs = [run.text for run in text_runs(pdf)]
    start = runs.index(next(run for run in runs if run.startswith("Source : Convention")))
    expected = f"Source : {SOURCE}".replace(" ", "")
    pieces = [runs[start]]
    while len("".join(pieces).replace(" ", "")) < len(expected):
        pieces.append(runs[start + len(pieces)])
    assert len(pieces) >= 2  # it did not fit on one line
    assert "".join(pieces).replace(" ", "") == expected


def measuring_pdf(size: float) -> FPDF:
    """A page in the report's font (its French cut: held in memory, no file left open)."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    report_pdf._add_fonts(pdf, whole=False)
    pdf.set_font(FONT_FAMILY, "", size)
    return pdf


def test_wrap_fills_lines_up_to_the_width_and_cuts_only_an_overlong_word():
    pdf = measuring_pdf(9.5)
    sentence = "Coût net divisé par le nombre de téléconsultations réalisées dans le mois"
    for width in range(30, 100, 3):
        lines = report_pdf._wrap(pdf, sentence, width)
        assert len(lines) > 1
        assert " ".join(lines) == sentence
        assert all(pdf.get_string_width(line) <= width for line in lines)
        # Greedy: the next line's first word would not have fitted on the line before.
        for line, following in itertools.pairwise(lines):
            assert pdf.get_string_width(f"{line} {following.split()[0]}") > width

    width = 60.0
    address = "https://www.ameli.fr/" + "tarifs-conventionnels-" * 6
    lines = report_pdf._wrap(pdf, f"Source : {address}", width)
    assert lines[0] == "Source :"
    assert "".join(lines[1:]) == address
    assert all(0 < pdf.get_string_width(line) <= width for line in lines)
    assert report_pdf._wrap(pdf, "Tarif\nSource", width) == ["Tarif", "Source"]
    assert report_pdf._wrap(pdf, "", width) == [""]
    assert report_pdf._wrap(pdf, "Une ligne", PAGE_WIDTH_MM) == ["Une ligne"]


@pytest.fixture
def drawings(monkeypatch):
    """Which font each drawing of a report used."""
    calls = []
    draw = report_pdf._report

    def counted(*args, whole_font):
        calls.append("whole" if whole_font else "cut")
        return draw(*args, whole_font=whole_font)

    monkeypatch.setattr(report_pdf, "_report", counted)
    return calls


def test_french_text_is_drawn_once_with_the_cut_font(world, drawings):
    report = network_economics(actor=world["staff"], year=YEAR)
    pdf = economics_report_pdf(report, generated_on=DAY)
    assert drawings == ["cut"]
    assert world["site"].place.name in pdf_text(pdf)


def test_a_name_the_cut_font_lacks_is_drawn_again_with_the_whole_font(world, drawings):
    # Vietnamese letters (Latin Extended Additional): outside the cut, inside DejaVu.
    Place.objects.filter(pk=world["site"].place_id).update(name="Maison de santé Nguyễn Ưng")
    report = network_economics(actor=world["staff"], year=YEAR)
    pdf = economics_report_pdf(report, generated_on=DAY)
    assert drawings == ["cut", "whole"]
    assert "Maison de santé Nguyễn Ưng" in pdf_text(pdf)
    assert "\ufffd" not in pdf_text(pdf)


def test_a_character_no_font_has_does_not_draw_the_report_twice(world, drawings):
    Place.objects.filter(pk=world["site"].place_id).update(name="Maison de santé \ue000")
    report = network_economics(actor=world["staff"], year=YEAR)
    assert economics_report_pdf(report, generated_on=DAY).startswith(b"%PDF")
    assert drawings == ["cut"]


def test_the_title_and_language_are_announced(world):
    report = site_economics(actor=world["staff"], site=world["site"], year=YEAR)
    pdf = economics_report_pdf(report, generated_on=DAY)
    title = f"Modèle technico-économique {YEAR} — {world['site'].place.name}"
    assert b"/Lang (fr)" in pdf
    assert ("<feff" + title.encode("utf-16-be").hex() + ">").encode() in pdf.lower()
    assert page_count(pdf) >= 2
    assert f"{title} — page 1/\n{page_count(pdf)}" in pdf_text(pdf)  # the total: a run of its own
