"""Registry through which modules above accounts add what they hold about a person to the
personal data export and take part in erasure (ARCHITECTURE.md: modules plug in through
registries filled in `AppConfig.ready()`; accounts never imports them).

    from cybercantal.accounts.personal_data import register_personal_data

    class BookingConfig(AppConfig):
        def ready(self):
            register_personal_data("booking", export=export_bookings, erase=anonymise_bookings)

`export(user) -> JSON-serialisable value` is added under its key in the export.
`erase(user) -> None` runs inside the erasure transaction, before the account itself is
anonymised: it must anonymise or delete the module's rows about the person (an exception
cancels the whole erasure).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonalDataProvider:
    key: str
    export: Callable[[Any], Any] | None = None
    erase: Callable[[Any], None] | None = None


_providers: dict[str, PersonalDataProvider] = {}


def register_personal_data(
    key: str,
    *,
    export: Callable[[Any], Any] | None = None,
    erase: Callable[[Any], None] | None = None,
) -> None:
    """Register (or replace, so that a reloaded app does not fail) a module's provider."""
    _providers[key] = PersonalDataProvider(key=key, export=export, erase=erase)


def unregister_personal_data(key: str) -> None:
    _providers.pop(key, None)


def personal_data_providers() -> list[PersonalDataProvider]:
    return [_providers[key] for key in sorted(_providers)]
