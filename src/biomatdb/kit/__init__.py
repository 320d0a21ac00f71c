"""What every feature shares and nothing in it knows about any feature: JSON paths of
problems, keyset cursors and pages, chunked ``IN`` lists, content hashes, time stamps.

The bottom layer (with ``errors``, ``settings`` and ``db``): it imports no other part of
biomatdb, so any part may import it (see docs/architecture.md).
"""
