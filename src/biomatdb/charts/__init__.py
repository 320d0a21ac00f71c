"""Charts of the published materials: the Ashby map (``GET /api/v1/charts/ashby``).

``router`` translates HTTP, ``service`` checks the axes and reads the data (one
query), ``render`` draws it as SVG, ``schemas`` holds the JSON wire types.
"""
