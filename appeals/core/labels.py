"""Translated names of every enum value the interface shows, in one place for all domains."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "central": _l("Central office coordinator"),
    "coordinator": _l("Coordinator"),
    "clerk": _l("Reception clerk"),
    "host": _l("Host"),
    "viewer": _l("Viewer"),
}
OFFICE_KIND_LABELS = {"regional": _l("Regional office"), "territorial": _l("Territorial office")}
HOST_KIND_LABELS = {
    "candidate": _l("Candidate"),
    "office_member": _l("Office member"),
    "deputy": _l("Deputy"),
    "other": _l("Other"),
}
SESSION_STATUS_LABELS = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "held": _l("Held"),
    "cancelled": _l("Cancelled"),
}
CHANNEL_LABELS = {
    "session": _l("Reception session"),
    "door_to_door": _l("Door-to-door visit"),
    "online_event": _l("Online event"),
    "phone": _l("Phone"),
    "letter": _l("Letter"),
    "email": _l("E-mail"),
    "other": _l("Other"),
    "online": _l("Online form"),
}
ATTACHMENT_KIND_LABELS = {"appeal": _l("The appeal and its enclosures"), "answer": _l("The answer")}
APPLICANT_KIND_LABELS = {
    "individual": _l("Individual"),
    "anonymous": _l("Anonymous"),
    "collective": _l("Collective"),
}
APPEAL_TYPE_LABELS = {
    "statement": _l("Statement"),
    "complaint": _l("Complaint"),
    "proposal": _l("Proposal"),
    "response": _l("Response"),
    "request": _l("Request"),
}
APPEAL_STATUS_LABELS = {
    "registered": _l("Registered"),
    "in_review": _l("In review"),
    "forwarded": _l("Forwarded"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
}
MANDATE_STATUS_LABELS = {
    "registered": _l("Registered"),
    "in_progress": _l("In progress"),
    "fulfilled": _l("Fulfilled"),
    "partially_fulfilled": _l("Partially fulfilled"),
    "not_fulfilled": _l("Not fulfilled"),
    "withdrawn": _l("Withdrawn"),
}
NOTICE_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "held": _l("Held for the digest"),
    "skipped": _l("Not sent (inactive account)"),
}
NOTICE_CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS"), "inapp": _l("In the application")}

JOB_STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}
