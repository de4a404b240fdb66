"""Admin of the tiers-lieux network, for platform administrators: places' amenities and offers
are configured here; passes, credits, check-ins and invoices are only shown — they change
through the services, which keep the ledger balanced and the invoice numbering without gaps."""

from django.contrib import admin

from cybercantal.core.admin_site import (
    PlatformModelAdmin,
    PlatformTabularInline,
    ReadOnlyAdminMixin,
)

from .models import (
    CheckIn,
    CreditMovement,
    DeskBooking,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    MemberProfile,
    Offer,
    Pass,
    Payment,
    SettlementRule,
    TiersLieu,
)


@admin.register(TiersLieu)
class TiersLieuAdmin(PlatformModelAdmin):
    list_display = ["place", "typology", "setting", "desk_capacity", "is_in_network", "is_demo"]
    list_filter = ["typology", "setting", "legal_form", "is_in_network", "is_demo"]
    search_fields = ["place__name", "place__commune__name"]
    autocomplete_fields = ["place"]


@admin.register(Offer)
class OfferAdmin(PlatformModelAdmin):
    list_display = ["label", "kind", "tiers_lieu", "operator", "price_cents", "vat_rate"]
    list_filter = ["kind", "is_reduced", "is_active", "consumed_on"]
    search_fields = ["label", "tiers_lieu__place__name", "operator__name"]
    autocomplete_fields = ["operator", "funder"]


class ReadOnlyAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    pass


@admin.register(Pass)
class PassAdmin(ReadOnlyAdmin):
    list_display = ["member", "offer", "sold_at", "valid_from", "valid_until", "status"]
    list_filter = ["status", "offer__kind"]
    search_fields = ["member__email", "member__last_name", "offer__label"]


@admin.register(CreditMovement)
class CreditMovementAdmin(ReadOnlyAdmin):
    list_display = ["pass_account", "half_days", "reason", "booking", "check_in", "at"]
    list_filter = ["reason"]


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["member", "tiers_lieu", "day", "at", "method"]
    list_filter = ["method"]
    date_hierarchy = "day"


@admin.register(DeskBooking)
class DeskBookingAdmin(ReadOnlyAdmin):
    list_display = ["booking", "pass_account", "half_days"]


@admin.register(InvoiceSeries)
class InvoiceSeriesAdmin(ReadOnlyAdmin):
    list_display = ["operator", "prefix", "last_number"]


class InvoiceLineInline(ReadOnlyAdminMixin, PlatformTabularInline):
    model = InvoiceLine
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "operator", "kind", "status", "issued_on", "total_incl_tax_cents"]
    list_filter = ["kind", "status"]
    search_fields = ["number", "buyer_name", "operator__name"]
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "amount_cents", "method", "received_on"]
    list_filter = ["method"]


@admin.register(MemberProfile)
class MemberProfileAdmin(PlatformModelAdmin):
    list_display = ["user", "joined_on", "previous_departement", "usual_commute_km"]
    search_fields = ["user__email", "user__last_name"]
    exclude = ["pin_digest"]
    readonly_fields = ["checkin_code"]
    autocomplete_fields = ["user"]


@admin.register(SettlementRule)
class SettlementRuleAdmin(PlatformModelAdmin):
    list_display = ["tiers_lieu", "basis", "amount_cents", "valid_from"]
