"""python -m simulator: the same as the ioc-sim console script."""

import sys

from simulator.cli import main

sys.exit(main())
