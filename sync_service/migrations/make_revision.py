"""`python -m sync_service.migrations.make_revision "message"`: autogenerate a revision by
comparing the models with a scratch SQLite database at head."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from sync_service.db.engine import alembic_config, make_engine


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        cfg = alembic_config(engine)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    main()
