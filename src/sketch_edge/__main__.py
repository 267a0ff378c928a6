import sys

from sketch_edge.cli import main

sys.exit(main())
