"""`python -m evaluators ...`: see `evaluators.cli`."""

from __future__ import annotations

import sys

from evaluators.cli import main

if __name__ == "__main__":
    sys.exit(main())
