"""The printable attestation of a mandate: an A4 PDF with both parties, the areas, the dates,
how consent was given, and the SHA-256 hash of the mandate's canonical text with how to check
it (/mediation/mandats/verifier/). Same bundled DejaVu font as the letters and invoices so that
accents always print."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from cybercantal.core.notifications.letters import FONT_DIR, FONT_FAMILY, french_date

from .models import Mandate

MARGIN_MM = 18
WIDTH_MM = 210 - 2 * MARGIN_MM


def _line(pdf: FPDF, text: str, *, bold: bool = False, size: float = 10, height=5.5) -> None:
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    pdf.multi_cell(WIDTH_MM, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    _line(pdf, text, bold=True, size=11, height=6.5)


def mandate_attestation_pdf(mandate: Mandate, *, verify_url: str, compress: bool = True) -> bytes:
    """The attestation as PDF bytes. Printed from the record: a reprint is identical but for
    the state of the areas, shown as of the printing day."""
    platform = settings.CYBERCANTAL_BRANDING["platform_name"]
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.add_font(FONT_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(MARGIN_MM, 18, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_lang("fr")
    pdf.set_title(_("Attestation de mandat %(ref)s") % {"ref": mandate.reference})
    pdf.set_author(mandate.organisation.name)
    pdf.set_creator(platform)
    pdf.add_page()

    _line(pdf, _("Attestation de mandat"), bold=True, size=16, height=9)
    _line(pdf, _("Référence : %(ref)s") % {"ref": mandate.reference}, bold=True)

    _heading(pdf, _("La personne qui donne mandat (mandant)"))
    _line(pdf, mandate.beneficiary.first_name)
    _heading(pdf, _("La structure qui agit pour elle (mandataire)"))
    _line(pdf, mandate.organisation.name)
    _line(
        pdf,
        _(
            "Ses médiateurs numériques peuvent faire, au nom de la personne et avec elle, les "
            "démarches des domaines ci-dessous. Chaque utilisation est inscrite dans un journal "
            "qui ne peut être ni modifié ni effacé."
        ),
        size=9,
        height=4.8,
    )

    _heading(pdf, _("Durée"))
    _line(
        pdf,
        _("%(duration)s : du %(start)s au %(end)s inclus.")
        % {
            "duration": mandate.get_duration_display(),
            "start": french_date(mandate.starts_on),
            "end": french_date(mandate.ends_on),
        },
    )

    _heading(pdf, _("Domaines de démarches"))
    for area in mandate.areas.all():
        state = (
            _(" — révoqué le %(day)s") % {"day": french_date(timezone.localdate(area.revoked_at))}
            if area.revoked_at
            else ""
        )
        _line(pdf, f"• {area.get_area_display()}{state}")

    _heading(pdf, _("Consentement de la personne"))
    recorded = timezone.localtime(mandate.consent_recorded_at)
    _line(
        pdf,
        _("%(method)s, enregistré le %(day)s à %(time)s.")
        % {
            "method": mandate.get_consent_method_display(),
            "day": french_date(recorded.date()),
            "time": recorded.strftime("%H:%M"),
        },
    )
    if mandate.consent_note:
        _line(pdf, mandate.consent_note, size=9)
    _line(
        pdf,
        _(
            "La personne peut révoquer ce mandat à tout moment, pour un domaine ou pour tous, "
            "en le demandant à la structure."
        ),
        size=9,
        height=4.8,
    )

    _heading(pdf, _("Empreinte de l'attestation (SHA-256)"))
    _line(pdf, mandate.attestation_hash, bold=True, size=9)
    _line(
        pdf,
        _(
            "Cette empreinte est calculée sur le contenu du mandat (structure, personne, "
            "domaines, dates, consentement) : la moindre modification la change. Pour vérifier "
            "que cette attestation correspond à un mandat enregistré et savoir s'il est "
            "toujours valide, saisissez la référence et l'empreinte sur %(url)s"
        )
        % {"url": verify_url},
        size=9,
        height=4.8,
    )

    pdf.ln(8)
    y = pdf.get_y()
    pdf.set_font(FONT_FAMILY, "", 9)
    pdf.set_xy(MARGIN_MM, y)
    pdf.cell(WIDTH_MM / 2, 5, _("Signature de la personne"))
    pdf.cell(WIDTH_MM / 2, 5, _("Pour la structure"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(18)
    _line(
        pdf,
        _("Édité par %(platform)s le %(day)s.")
        % {"platform": platform, "day": french_date(timezone.localdate())},
        size=8,
    )
    return bytes(pdf.output())
