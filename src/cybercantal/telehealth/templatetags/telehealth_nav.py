"""The telehealth sub-navigation: only the links the person may follow (a nurse never sees
the network's settings, a practitioner sees their téléexpertises)."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from ..perms import coordinated_site_ids, is_telehealth_staff, sites_for

register = template.Library()


# The network pages' url names, without their "network_" prefix.
NETWORK_PAGES = (
    "sites",
    "site_create",
    "site_edit",
    "site_equipment",
    "specialties",
    "specialty_create",
    "specialty_edit",
    "practitioners",
    "practitioner_create",
    "practitioner_edit",
    "assistants",
    "assistant_create",
    "assistant_edit",
    "hospitals",
    "hospital_create",
    "hospital_edit",
)


def _links(user) -> list[tuple[str, str, tuple[str, ...]]]:
    """(label, url, url names that make it current)."""
    staff = is_telehealth_staff(user)
    has_sites = staff or sites_for(user).exists()
    practitioner = hasattr(user, "telehealth_practitioner")
    links = [(_("Accueil"), reverse("telehealth:home"), ("home",))]
    if has_sites:
        links.append(
            (_("Réserver"), reverse("telehealth:consultation_book"), ("consultation_book",))
        )
    if has_sites or practitioner:
        links.append(
            (
                _("Téléconsultations"),
                reverse("telehealth:consultations"),
                (
                    "consultations",
                    "consultation_detail",
                    "consultation_checklist",
                    "consultation_close",
                    "consultation_incident",
                    "consultation_cancel",
                    "consultation_close_correct",
                    "acts_code",
                ),
            )
        )
    if practitioner:
        links.append(
            (
                _("Téléexpertises"),
                reverse("telehealth:expertise_list"),
                (
                    "expertise_list",
                    "expertise_new",
                    "expertise_detail",
                    "expertise_answer",
                    "expertise_withdraw",
                ),
            )
        )
    if has_sites or practitioner:
        links.append((_("Actes"), reverse("telehealth:acts"), ("acts",)))
    if staff or practitioner or coordinated_site_ids(user):  # a snow day, a doctor away
        links.append(
            (
                _("Annuler des séances"),
                reverse("telehealth:cancellations"),
                ("cancellations",),
            )
        )
    if staff or coordinated_site_ids(user):  # the site's register and figures
        links += [
            (_("Patients"), reverse("telehealth:patients"), ("patients", "patient_anonymise")),
            (
                _("Modèle économique"),
                reverse("telehealth:economics"),
                ("economics", "economics_site", "economics_network", "costs_site", "costs_network"),
            ),
        ]
    if staff:
        links += [
            (
                _("Réseau"),
                reverse("telehealth:network_sites"),
                (
                    *(f"network_{name}" for name in NETWORK_PAGES),
                    "zoning",
                    "zoning_edit",
                    "zoning_import",
                ),
            ),
            (
                _("Tarifs des actes"),
                reverse("telehealth:tariffs"),
                ("tariffs", "tariff_new", "tariff_edit"),
            ),
            (
                _("Tarifs de transport"),
                reverse("telehealth:transport_tariffs"),
                ("transport_tariffs", "transport_tariff_edit"),
            ),
        ]
    return links


@register.inclusion_tag("telehealth/_menu.html", takes_context=True)
def telehealth_menu(context):
    request = context["request"]
    current = request.resolver_match.url_name if request.resolver_match else ""
    return {
        "links": [
            {"label": label, "url": url, "current": current in names, "exact": current == names[0]}
            for label, url, names in _links(request.user)
        ]
    }
