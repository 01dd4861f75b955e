"""events: index on (kind, seq)

Replay and queries by kind (the newest event of a kind, a kind's events after a seq) scanned
the whole log; with the index they are a range scan. The ORM model declares the same index,
so a store created at head and one migrated from 0001 agree.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# Plain op.create_index, not a batch block: SQLite adds an index in place, and a batch block
# could copy a log of millions of events to a new table for it.
def upgrade() -> None:
    op.create_index('ix_events_kind_seq', 'events', ['kind', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_kind_seq', table_name='events')
