import sys

from runbooks.cli.main import main

sys.exit(main())
