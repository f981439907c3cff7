"""Secrets at rest: calendar-feed tokens stored as SHA-256 digests; idempotency rows from before
keys were hashed and answers sealed are dropped.

Revision ID: 0010
Revises: 0009

Feed tokens are hashed in place, so every feed address already given out keeps working. An
idempotency row written before 0010 holds its key and the full API answer (names, IINs) in clear.
It cannot be converted (the answer is sealed with the client's key, which the server never kept),
so it is deleted: a client retrying, after the upgrade, a request answered before it is served as a
new request. Upgrade between field teams' sessions.
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    hosts = sa.table("hosts", sa.column("id", sa.Integer), sa.column("feed_token", sa.String))
    for host_id, token in connection.execute(sa.select(hosts.c.id, hosts.c.feed_token)
                                             .where(hosts.c.feed_token.is_not(None))).all():
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        connection.execute(sa.update(hosts).where(hosts.c.id == host_id).values(feed_token=digest))
    keys = sa.table("idempotency_keys", sa.column("id", sa.Integer))
    connection.execute(sa.delete(keys))


def downgrade():
    # A digest cannot be turned back into the address: the feeds are revoked, hosts create new links.
    hosts = sa.table("hosts", sa.column("feed_token", sa.String))
    op.get_bind().execute(sa.update(hosts).values(feed_token=None))
