"""Invoicing of the tiers-lieux operators: VAT arithmetic (amounts.py), the immutability
guard of issued invoices (guards.py), the printable invoice (pdf.py) and the accounting
exports (exports.py: CSV, FEC). Writes go through coworking/services/invoices.py."""
