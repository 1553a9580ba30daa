"""``python -m hingecheck.cli``."""

import sys

from hingecheck.cli.main import main

sys.exit(main())
