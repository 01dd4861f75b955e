"""`python -m sync_service`: the same as `ioc-sync`."""

from sync_service.cli import main

raise SystemExit(main())
