"""``GET /api/v1/info``: what the service is, under which terms its data may be used,
how to cite it, and how much it holds (modelled on OPTIMADE's ``/info``)."""
