"""Public pages of the network (helper A fills this)."""

urlpatterns: list = []
