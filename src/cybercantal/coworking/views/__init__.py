"""Pages of the tiers-lieux network, one module per family of pages, each with its own
`urlpatterns` (gathered in coworking/urls.py)."""
