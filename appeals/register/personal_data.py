"""Revealing an applicant's personal data to a coordinator who asks: the one read that is audited.

(What each role sees is answered by appeals.auth.permissions: personal_data_mode, personal_view.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from appeals.auth.permissions import may_reveal_personal, personal_view
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.register.models import (
    Appeal,
)

if TYPE_CHECKING:
    from appeals.auth.models import User
    from appeals.auth.permissions import PersonalView


def reveal_personal_data(appeal: Appeal, user: User) -> PersonalView:
    """A coordinator's audited look at one applicant's details: writes the audit record, returns the view.

    Anyone else gets what permissions.personal_view gives them (the office's clerks see everything
    anyway, masked roles stay masked) and nothing is recorded.
    """
    if not may_reveal_personal(user, appeal):
        return personal_view(appeal, user)
    with write_transaction():
        audit.record("personal_data_viewed", object_type="appeals", object_id=appeal.id,
                     label=appeal.number, user=user, changes={"fields": [None, ["iin", "phone", "address"]]})
    appeal = db.session.get(Appeal, appeal.id)
    return personal_view(appeal, user, revealed=True)
