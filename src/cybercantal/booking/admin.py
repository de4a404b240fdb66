"""Admin of the booking engine, for platform administrators. Resources, their rules and
closures are configured here; bookings are only shown: they change through the services (the
agenda pages and the API), which keep capacity, transitions and notifications right."""

from django.contrib import admin

from cybercantal.core.admin_site import (
    PlatformModelAdmin,
    PlatformTabularInline,
    ReadOnlyAdminMixin,
)

from .models import (
    Allocation,
    AvailabilityRule,
    Booking,
    BookingTransition,
    CalendarFeedToken,
    Closure,
    Resource,
    Service,
    WaitingListEntry,
)


@admin.register(Service)
class ServiceAdmin(PlatformModelAdmin):
    list_display = ["label", "code", "default_duration_minutes"]
    search_fields = ["label", "code"]
    prepopulated_fields = {"code": ["label"]}


class AvailabilityRuleInline(PlatformTabularInline):
    model = AvailabilityRule
    extra = 0
    autocomplete_fields = ["place"]


@admin.register(Resource)
class ResourceAdmin(PlatformModelAdmin):
    list_display = [
        "name",
        "kind",
        "place",
        "organisation",
        "capacity",
        "bookable_by",
        "is_active",
        "is_demo",
    ]
    list_filter = ["kind", "bookable_by", "is_active", "approval_required", "is_demo"]
    search_fields = ["name", "place__name", "organisation__name"]
    autocomplete_fields = ["place", "organisation", "person"]
    filter_horizontal = ["services"]
    inlines = [AvailabilityRuleInline]


@admin.register(Closure)
class ClosureAdmin(PlatformModelAdmin):
    list_display = ["start", "end", "resource", "place", "reason"]
    list_filter = ["start"]
    autocomplete_fields = ["resource", "place"]
    date_hierarchy = "start"


class AllocationInline(ReadOnlyAdminMixin, PlatformTabularInline):
    model = Allocation
    fields = ["resource", "blocked_start", "blocked_end", "units", "is_active"]
    readonly_fields = fields
    extra = 0


class BookingTransitionInline(ReadOnlyAdminMixin, PlatformTabularInline):
    model = BookingTransition
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = ["reference", "start", "status", "display_name", "place", "channel"]
    list_filter = ["status", "channel", "start"]
    search_fields = ["reference", "person_name", "user__last_name", "user__username"]
    date_hierarchy = "start"
    list_select_related = ["place", "user"]
    inlines = [AllocationInline, BookingTransitionInline]


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = [
        "name",
        "owner",
        "resource",
        "token_prefix",
        "created_at",
        "revoked_at",
        "last_used_at",
    ]
    exclude = ["token_hash"]


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(ReadOnlyAdminMixin, PlatformModelAdmin):
    list_display = ["created_at", "status", "resource", "service", "window_start", "window_end"]
    list_filter = ["status"]
