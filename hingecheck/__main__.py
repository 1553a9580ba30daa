"""``python -m hingecheck``."""

import sys

from hingecheck.cli.main import main

sys.exit(main())
