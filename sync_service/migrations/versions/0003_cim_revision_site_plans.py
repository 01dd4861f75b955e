"""CIM: buildings revision, plan level, key-unit site plans

- cim_state ("buildings" row): a revision raised by every write to buildings. The manifest
  (buildings.get) hashes it into its version, so a console's cache of a city whose heights or
  key-unit flags were edited is not reused. Database triggers raise it, so an UPDATE or DELETE
  from anywhere (a script, psql) counts too: on SQLite per row after UPDATE/DELETE (an INSERT
  changes the row count, which the version hashes as well, and the bulk insert path raises it
  itself); on PostgreSQL once per statement, INSERT/UPDATE/DELETE/TRUNCATE.
- plans.level: who commands the plan (corps / detachment / brigade / station).
- site_plans: a key unit's site plan (总平面图) layout.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION cim_buildings_revise() RETURNS trigger AS $$
BEGIN
    UPDATE cim_state SET value = value + 1 WHERE key = 'buildings';
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table('cim_state',
                    sa.Column('key', sa.String(length=32), nullable=False),
                    sa.Column('value', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.execute("INSERT INTO cim_state (key, value) VALUES ('buildings', 0)")
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=16), server_default='station', nullable=False))
    op.create_table('site_plans',
                    sa.Column('key_unit_id', sa.Integer(), nullable=False),
                    sa.Column('layout', sa.JSON(), nullable=False),
                    sa.Column('source', sa.String(length=16), nullable=False),
                    sa.Column('updated_ts', sa.Float(), nullable=False),
                    sa.ForeignKeyConstraint(['key_unit_id'], ['key_units.id']),
                    sa.PrimaryKeyConstraint('key_unit_id'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute("CREATE TRIGGER buildings_revise AFTER INSERT OR UPDATE OR DELETE ON buildings "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cim_buildings_revise()")
        op.execute("CREATE TRIGGER buildings_revise_truncate AFTER TRUNCATE ON buildings "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cim_buildings_revise()")
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER buildings_revise_{what.lower()} AFTER {what} ON buildings BEGIN "
                       "UPDATE cim_state SET value = value + 1 WHERE key = 'buildings'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS buildings_revise ON buildings")
        op.execute("DROP TRIGGER IF EXISTS buildings_revise_truncate ON buildings")
        op.execute("DROP FUNCTION IF EXISTS cim_buildings_revise()")
    else:
        op.execute("DROP TRIGGER IF EXISTS buildings_revise_update")
        op.execute("DROP TRIGGER IF EXISTS buildings_revise_delete")
    op.drop_table('site_plans')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('level')
    op.drop_table('cim_state')
