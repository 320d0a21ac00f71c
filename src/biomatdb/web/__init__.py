"""The web page (contract section 7): server-rendered HTML over the API.

Pages call the API in process (:mod:`biomatdb.web.client`), so they show what the
API gives and nothing else; templates (``templates/``) autoescape everything;
``assets/`` holds the one stylesheet, the small script that enhances pages that
work without it, and the icon. See :func:`biomatdb.web.router.install`.
"""
