"""Importers: other people's catalog data -> catalog-shaped dicts (pure, no I/O).

Each format module exposes ``convert(...)``, which takes parsed JSON (numbers as
:class:`~decimal.Decimal`, never ``float``) and returns an :class:`~.common.Imported`:
provider and model dicts in the shape of the declarative file (docs/catalog-format.md)
plus a report (unmatched entries, skipped entries, notes). Source problems raise one
:class:`~routeyard.errors.CatalogError` naming the file, the JSON path and the problem.

:mod:`.merge` combines several imports and the database's catalog under the precedence
rules of docs/importing.md; :mod:`routeyard.catalog.loader` does the reading and writing.
"""
