import sys

from inkcore.cli import main

sys.exit(main())
