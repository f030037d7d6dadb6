"""Run the command line as ``python -m autoscale``."""

import sys

from .cli import main

sys.exit(main())
