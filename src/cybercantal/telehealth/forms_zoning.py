"""Forms of the priority-zone pages: the zoning from a date (communes written one per line,
as codes or names) and the import of the ARS's CSV list, which only fills the list in for the
staff to check before saving."""

from __future__ import annotations

import csv
import io

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cybercantal.core.text import normalize_search

from .selectors.zoning import INSEE_PATTERN, communes_from_text

MAX_CSV_BYTES = 2 * 1024 * 1024
# Header names the INSEE code column goes by in the ARS's and INSEE's files.
INSEE_HEADERS = frozenset({"insee", "code insee", "codgeo", "code commune", "com", "depcom"})


def _quoted(values) -> str:
    return ", ".join(f"« {value} »" for value in values)


class ZoningForm(forms.Form):
    communes = forms.CharField(
        label=gettext_lazy("Communes en zone d'intervention prioritaire"),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Une commune par ligne : son nom (« Saint-Flour », les accents ne comptent pas), son "
            "code INSEE (« 15187 ») ou les deux (« Saint-Flour (15187) »). La liste remplace "
            "celle en vigueur à partir de la date choisie : retirez les communes qui sortent "
            "de la zone, ajoutez celles qui y entrent."
        ),
        error_messages={"required": gettext_lazy("Indiquez au moins une commune.")},
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Prend effet le"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("La date d'entrée en vigueur indiquée par l'arrêté."),
        error_messages={
            "required": gettext_lazy("Indiquez la date à laquelle ce zonage prend effet."),
            "invalid": gettext_lazy("Indiquez une date (jour/mois/année)."),
        },
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=300,
        help_text=gettext_lazy(
            "Par exemple « Arrêté ARS Auvergne-Rhône-Alpes du 12/03/2025 relatif au zonage "
            "médecins »."
        ),
        error_messages={
            "required": gettext_lazy("Indiquez la source du zonage."),
            "max_length": gettext_lazy("La source ne doit pas dépasser 300 caractères."),
        },
    )

    def clean_communes(self):
        resolution = communes_from_text(self.cleaned_data["communes"])
        errors = []
        if resolution.unknown:
            errors.append(
                _(
                    "Communes introuvables dans le territoire : %(values)s. Vérifiez "
                    "l'orthographe ou indiquez le code INSEE."
                )
                % {"values": _quoted(resolution.unknown)}
            )
        if resolution.ambiguous:
            errors.append(
                _("Plusieurs communes portent ce nom : %(values)s. Indiquez le code INSEE.")
                % {"values": _quoted(resolution.ambiguous)}
            )
        if errors:
            raise forms.ValidationError(errors)
        if not resolution.communes:
            raise forms.ValidationError(_("Indiquez au moins une commune."))
        return list(resolution.communes)


class ZoningImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier CSV de l'ARS"),
        help_text=gettext_lazy(
            "Une ligne par commune en zone, avec une colonne « code INSEE » (ou CODGEO). Les "
            "communes des autres départements sont ignorées. La liste lue remplit le formulaire "
            "ci-dessous : rien n'est enregistré avant que vous le validiez."
        ),
        error_messages={
            "required": gettext_lazy("Choisissez un fichier CSV."),
            "empty": gettext_lazy("Le fichier est vide."),
            "invalid": gettext_lazy("Choisissez un fichier CSV."),
            "missing": gettext_lazy("Choisissez un fichier CSV."),
        },
    )

    def clean_file(self) -> tuple[list[str], int]:
        """The territory's INSEE codes read from the file, and how many lines of other
        départements were left out."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 2 Mo : est-ce bien la liste ?"))
        raw = upload.read()
        text = None
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        if not text or "\x00" in text:
            raise forms.ValidationError(_("Ce fichier n'est pas un fichier CSV lisible."))
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        try:
            dialect = csv.Sniffer().sniff(first_line, delimiters=";,\t")
        except csv.Error:
            dialect = csv.excel
        try:
            rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(map(str.strip, r))]
        except csv.Error:
            raise forms.ValidationError(_("Ce fichier n'est pas un fichier CSV lisible.")) from None
        if not rows:
            raise forms.ValidationError(_("Le fichier est vide."))
        header = [normalize_search(cell).replace("_", " ") for cell in rows[0]]
        column = next((i for i, name in enumerate(header) if name in INSEE_HEADERS), None)
        if column is None:
            raise forms.ValidationError(
                _(
                    "Aucune colonne « code INSEE » (ou CODGEO) sur la première ligne du "
                    "fichier : ajoutez cet en-tête au-dessus des codes."
                )
            )
        territory = settings.CYBERCANTAL_TERRITORY_CODE
        codes, elsewhere, invalid = [], 0, []
        for number, row in enumerate(rows[1:], start=2):
            value = row[column].strip().upper() if column < len(row) else ""
            if not value:
                continue
            if len(value) == 4 and value.isdigit():
                value = "0" + value  # a spreadsheet drops the leading zero of 01001…09999
            if not INSEE_PATTERN.fullmatch(value):
                invalid.append(_("ligne %(line)s : %(value)s") % {"line": number, "value": value})
            elif not value.startswith(territory):
                elsewhere += 1
            elif value not in codes:
                codes.append(value)
        if invalid:
            raise forms.ValidationError(
                _("Ces lignes n'ont pas un code INSEE valide : %(lines)s.")
                % {"lines": ", ".join(invalid[:10]) + (" …" if len(invalid) > 10 else "")}
            )
        if not codes:
            raise forms.ValidationError(
                _("Le fichier ne contient aucune commune du territoire (département %(code)s).")
                % {"code": territory}
            )
        return codes, elsewhere
