"""Online payment of the operators' invoices through a payment provider.

`base.py` says what a provider is (start a checkout, verify and read a notification), `loader.py`
finds the one named by settings.COWORKING_PAYMENT_PROVIDER (none by default), `signing.py` holds
the HMAC-SHA256 signature scheme HMAC-based providers share, and `simulated.py` is a provider
for development only, which pays without money. The flow is in services/online_payments.py and
views/payments.py; the reasons are in docs/decisions/0004-tiers-lieux-credits-and-invoices.md."""
