"""`python -m pytest_luxgate.cli`: the `luxgate` console script."""
import sys

from . import main

sys.exit(main())
