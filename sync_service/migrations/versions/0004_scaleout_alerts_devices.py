"""alerts: one not-closed alert per dedup key (unique partial index); devices: seen_ts

Several service processes on one PostgreSQL could each open an alert for the same source: the
dedup_key index was not unique. Now `uq_alerts_dedup_open` (dedup_key WHERE state != 'closed')
makes a second live alert for a source impossible, and the writers merge into the live one on
conflict (sync_service/alerts/store.py). It replaces the plain ix_alerts_dedup_key: every
lookup by dedup_key asks for the not-closed alert, which the partial index answers. Duplicates
already in a store are closed first, all but the newest (the one find_live has been updating).

devices.seen_ts (indexed): the service wall clock of a device's newest accepted reading, written
by whichever process took it, so the leader's offline detection and metrics see the whole city.

Plain ops, not batch blocks: SQLite adds a column and an index in place.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LIVE = "state != 'closed'"


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE alerts SET state = 'closed', updated_ts = :now, updated_by = 'migration-0004' "
        f"WHERE {LIVE} AND EXISTS (SELECT 1 FROM alerts AS b WHERE b.dedup_key = alerts.dedup_key "
        "AND b.state != 'closed' AND b.id > alerts.id)").bindparams(now=time.time()))
    op.create_index('uq_alerts_dedup_open', 'alerts', ['dedup_key'], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.drop_index('ix_alerts_dedup_key', table_name='alerts')
    op.add_column('devices', sa.Column('seen_ts', sa.Float(), nullable=True))
    op.create_index('ix_devices_seen_ts', 'devices', ['seen_ts'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_devices_seen_ts', table_name='devices')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('seen_ts')
    op.create_index('ix_alerts_dedup_key', 'alerts', ['dedup_key'], unique=False)
    op.drop_index('uq_alerts_dedup_open', table_name='alerts')
