"""Catalog sources: the declarative file, importers (pure) and the loader that applies them."""
