"""``python -m wxocr_async``: the ``wxocr`` command (see :mod:`wxocr_async.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
