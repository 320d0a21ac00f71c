"""The data quality report: a curator's worklist (``biomatdb quality``,
``GET /api/v1/quality``)."""
