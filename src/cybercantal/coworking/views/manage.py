"""Managers pages (helper B fills this)."""

urlpatterns: list = []
