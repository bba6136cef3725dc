"""`python -m index.cli`: the same as the `articlebot` command."""

from index.cli.main import main

raise SystemExit(main())
