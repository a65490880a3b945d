"""``python -m streamflow``: the ``streamflow`` command, for when its script is not on PATH."""

from streamflow.cli import main

raise SystemExit(main())
