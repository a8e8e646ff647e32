"""`python -m dataperf_cli ...`, the same as the `dataperf` command."""

from __future__ import annotations

import sys

from dataperf_cli.main import main

if __name__ == "__main__":
    sys.exit(main())
