"""Helpers only tests use, kept out of the package."""
