"""``python -m gpushare``: the gpushare command line (see ``gpushare --help``)."""

import sys

from .cli import main

sys.exit(main())
