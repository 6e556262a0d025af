"""``python -m azero.pbrain``: the ``pbrain-azero`` command (:mod:`azero.pbrain.main`)."""

import sys

from azero.pbrain.main import main

sys.exit(main())
