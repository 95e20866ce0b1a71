"""``python -m entra_auth``: the entra-auth command line."""

from .cli import main

raise SystemExit(main())
