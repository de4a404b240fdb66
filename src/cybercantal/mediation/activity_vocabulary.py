"""What an activity report (compte rendu d'activité) records, in the words mediators use in
La Coop de la médiation numérique: the digital skills worked on, and the procedure areas of
the help with online procedures. Codes are stable (exports, filters); labels are French."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Digital skills ("accompagnement au numérique").
SKILL_THEMES = {
    "equipement": _("Prendre en main du matériel informatique"),
    "navigation": _("Naviguer sur internet"),
    "courriel": _("E-mail"),
    "bureautique": _("Bureautique"),
    "reseaux_sociaux": _("Réseaux sociaux et communication"),
    "sante": _("Santé (Mon Espace Santé, Ameli…)"),
    "banque_achats": _("Banque et achats en ligne"),
    "securite": _("Sécurité numérique"),
    "fichiers": _("Gestion des fichiers et du stockage"),
    "parentalite": _("Parentalité et scolarité (ENT, Pronote…)"),
    "insertion": _("Insertion professionnelle (CV, candidature…)"),
    "culture_numerique": _("Culture numérique"),
    "diagnostic": _("Diagnostic des compétences numériques"),
}

# Areas of the help with online procedures ("aide aux démarches administratives").
PROCEDURE_THEMES = {
    "papiers": _("Papiers, élections, citoyenneté"),
    "famille": _("Famille, scolarité"),
    "social": _("Social, santé"),
    "travail": _("Travail, formation"),
    "logement": _("Logement"),
    "transports": _("Transports, mobilité"),
    "argent": _("Argent, impôts"),
    "justice": _("Justice"),
    "etrangers": _("Étrangers, Europe"),
    "loisirs": _("Loisirs, sports, culture"),
    "associations": _("Associations"),
}

THEMES = SKILL_THEMES | PROCEDURE_THEMES

EQUIPMENT = {
    "ordinateur": _("Ordinateur"),
    "telephone": _("Téléphone"),
    "tablette": _("Tablette"),
    "autre": _("Autre matériel"),
    "aucun": _("Pas de matériel"),
}

# Where the person was sent on afterwards (a redirection is recorded, never its details).
REDIRECTIONS = {
    "france_services": _("France Services"),
    "caf": _("CAF"),
    "cpam": _("CPAM"),
    "france_travail": _("France Travail"),
    "mairie": _("Mairie"),
    "ccas": _("CCAS, action sociale"),
    "prefecture": _("Préfecture, ANTS"),
    "impots": _("Finances publiques"),
    "mediateur": _("Autre médiateur numérique"),
    "autre": _("Autre structure"),
}
