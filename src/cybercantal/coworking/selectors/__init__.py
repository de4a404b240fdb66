"""Reads of the tiers-lieux network, scoped to the actor: passes and credits (passes.py); each
page family adds its own module."""

from .passes import (
    available_half_days,
    held_half_days,
    local_day_bounds,
    member_passes,
    pass_balance,
    usable_passes,
)

__all__ = [
    "available_half_days",
    "held_half_days",
    "local_day_bounds",
    "member_passes",
    "pass_balance",
    "usable_passes",
]
