"""`python -m gql ...`: the kvgraph command line."""

import sys

from gql.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
