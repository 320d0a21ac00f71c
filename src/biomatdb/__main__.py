"""``python -m biomatdb``: the command line, as the ``biomatdb`` script."""

from biomatdb.cli import main

if __name__ == "__main__":
    main()
