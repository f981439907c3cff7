"""Imports every model so that Alembic and the schema test see the whole metadata."""
from appeals.auth.models import ApiToken, LoginThrottle, TotpRecoveryCode, User, UserSession  # noqa: F401
from appeals.core.audit import AuditRecord  # noqa: F401
from appeals.core.idempotency import IdempotencyKey  # noqa: F401
from appeals.core.jobs import Job, JobResultData  # noqa: F401
from appeals.core.numbering import NumberSequence  # noqa: F401
from appeals.core.outbox import Notice, NotificationPreference  # noqa: F401
from appeals.core.ratelimit import RateWindow  # noqa: F401
from appeals.core.storage import StoredFile  # noqa: F401
from appeals.core.verification import VerificationCode  # noqa: F401
from appeals.mandates.models import Directive, Mandate, MandateAppeal, MandateProgressNote  # noqa: F401
from appeals.notifications.duties import DutyRun  # noqa: F401
from appeals.reference import cache as _reference_cache  # noqa: F401  (its session hooks keep the version)
from appeals.reference.models import Category, District, Office, Region, Settlement  # noqa: F401
from appeals.register.models import (  # noqa: F401
    AnswerLetter,
    Appeal,
    AppealAttachment,
    AppealExtension,
    LetterTemplate,
    OnlineSubmission,
)
from appeals.reports.chain import MandateReport  # noqa: F401
from appeals.reports.summaries import AppealCount  # noqa: F401
from appeals.schedules.models import Booking, Host, ReceptionSession  # noqa: F401
