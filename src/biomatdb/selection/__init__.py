"""Choosing between materials (contract section 6): compare side by side; rank, export
and chart are to follow here."""
