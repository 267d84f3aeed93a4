"""Run the command line: ``python -m latticeclosure ...`` is ``latticeclosure ...``."""

import sys

from latticeclosure.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
