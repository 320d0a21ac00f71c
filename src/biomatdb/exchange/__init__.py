"""Exchanging bundles: importing them (CLI, seed, ``POST /api/v1/imports``), planning a
dry run, and exporting the published database as one bundle."""
