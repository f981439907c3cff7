"""Issue 13, finding 14: a failed statement's bound values (IINs) never reach logs or tracebacks."""
import logging
import traceback

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from appeals.core.extensions import db
from tests.fixtures_register import VALID_IIN


def test_engine_hides_bound_parameters(app):
    with app.app_context():
        assert db.engine.hide_parameters is True


def test_logged_database_error_has_no_iin(app, caplog):
    with app.test_request_context("/"):
        with pytest.raises(DBAPIError) as caught:
            # NOT NULL violations on both databases, with the IIN among the bound values.
            db.session.execute(sa.text("INSERT INTO appeals (iin, phone) VALUES (:iin, :phone)"),
                               {"iin": VALID_IIN, "phone": "+77011234567"})
        db.session.rollback()
        error = caught.value
        text = "".join(traceback.format_exception(error))
        assert "appeals" in text and VALID_IIN not in text and "+77011234567" not in text
        # The app's own handler logs the error with its traceback: still no IIN.
        with caplog.at_level(logging.DEBUG):
            app.handle_user_exception(error)
        assert caplog.records and VALID_IIN not in caplog.text and "+77011234567" not in caplog.text
        assert any(record.exc_info for record in caplog.records)

