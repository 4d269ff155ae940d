"""``python -m recorder.cameras`` (same as ``python -m recorder cameras``)."""

import sys

from recorder.cameras.cli import main

sys.exit(main())
