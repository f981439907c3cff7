"""Mask the personal data already in the audit trail (issue 13, finding 8).

Revision ID: 0009
Revises: 0008

The register and the mandates now store an applicant's name, address and letter in the audit trail
only as "changed" markers, IINs and phones masked, and IIN-, phone- and e-mail-like text hidden in
summaries and reasons. The records written before kept them in clear, and the admin (who may not
read appeals) and everyone who sees an appeal's history read them. The citizen-protecting choice is
to mask them too: the register itself still holds the full record; what the trail loses is the old
values of personal fields, which nobody but the office's clerks may read anyway.
Masking is idempotent (a masked value masks to itself), so a rerun is harmless; there is no way back.
"""
import sqlalchemy as sa
from alembic import op

from appeals.core.privacy import APPEAL_AUDIT_MASKS, MANDATE_AUDIT_MASKS, mask_changes

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MASKS = {"appeals": APPEAL_AUDIT_MASKS, "mandates": MANDATE_AUDIT_MASKS}
BATCH = 1000


def mask_audit_records(connection):
    """Mask the personal values of every appeal and mandate audit record; returns how many changed."""
    records = sa.table("audit_records", sa.column("id", sa.Integer), sa.column("object_type", sa.String),
                       sa.column("changes", sa.JSON))
    changed = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(records.c.id, records.c.object_type, records.c.changes)
            .where(records.c.id > last_id, records.c.object_type.in_(tuple(MASKS)), records.c.changes.is_not(None))
            .order_by(records.c.id).limit(BATCH)
        ).all()
        if not rows:
            return changed
        for record_id, object_type, changes in rows:
            if isinstance(changes, dict):
                masked = mask_changes(changes, MASKS[object_type])
                if masked != changes:
                    connection.execute(records.update().where(records.c.id == record_id).values(changes=masked))
                    changed += 1
        last_id = rows[-1][0]


def upgrade():
    mask_audit_records(op.get_bind())


def downgrade():
    # The clear values are gone by design.
    pass
