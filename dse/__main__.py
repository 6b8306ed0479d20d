"""``python -m dse`` runs the command line."""

import sys

from dse.cli import main

sys.exit(main())
