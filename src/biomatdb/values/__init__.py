"""The long table of property values (``GET /api/v1/values``): one row per value of
the materials a search matches, for meta-analysis and spreadsheets."""
