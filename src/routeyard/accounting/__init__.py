"""Accounting: generation records, per-key usage and spend limits (docs/accounting.md)."""
