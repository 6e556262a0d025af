import sys

from azero.cli import main

sys.exit(main())
