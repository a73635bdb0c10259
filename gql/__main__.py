"""`python -m gql ...`: the kvgraph command line."""

import sys

from gql.cli import main

if __name__ == "__main__":
    sys.exit(main())
