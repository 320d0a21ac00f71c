"""biomatdb: an open, curated, machine-readable biomaterials database."""

__version__ = "0.1.0"
