"""biomatdb: an open, curated, machine-readable biomaterials database."""

# The one place the version is written: the build reads it from here
# (pyproject.toml, [tool.hatch.version]); importlib.metadata agrees once installed.
__version__ = "0.1.0"
