"""The audit trail in people's language: actions, object types, field names and values.

The trail stores codes (`user_created`, `users`, `is_active_account`, `True`); pages show them
through these names. A code without a name here is shown as it is, so a new action is never
hidden, only untranslated until it gets its entry.
"""
from flask_babel import lazy_gettext as _l

from appeals.core import labels
from appeals.core.i18n import LANGUAGE_NAMES, choice_label

ACTIONS = {
    "created": _l("Appeal registered"), "imported": _l("Appeal registered by import"),
    "updated": _l("Appeal details corrected"), "status_changed": _l("Appeal status changed"),
    "forwarded": _l("Appeal forwarded to a competent body"), "deadline_extended": _l("Deadline extended"),
    "personal_data_viewed": _l("Personal data viewed"),
    "clock_suspended": _l("Answer clock stopped"), "clock_resumed": _l("Answer clock resumed"),
    "deadline_rules_updated": _l("Answer terms changed"),
    "letter_template_updated": _l("Answer letter template changed"),
    "repeat_check_matched": _l("Repeat check found an earlier appeal"),
    "mandate_contacts_printed": _l("Mandate contact list printed"),
    "user_created": _l("Account created"), "user_updated": _l("Account changed"),
    "login": _l("Logged in"), "login_failed": _l("Failed login"), "password_changed": _l("Password changed"),
    "password_check_failed": _l("Wrong current password"), "api_tokens_revoked": _l("API tokens revoked"),
    "api_token_created": _l("API token created"), "api_token_revoked": _l("API token revoked"),
    "totp_enabled": _l("Two-factor authentication turned on"), "totp_failed": _l("Wrong one-time code"),
    "totp_reset": _l("Two-factor authentication reset"), "totp_recovery_code_used": _l("Recovery code used"),
    "session_created": _l("Reception session created"), "session_updated": _l("Reception session changed"),
    "session_approved": _l("Reception session approved"), "session_held": _l("Reception session marked held"),
    "session_cancelled": _l("Reception session cancelled"),
    "booking_slots_opened": _l("Booking opened for a reception session"),
    "booking_slots_closed": _l("Booking closed for a reception session"),
    "booking_marked": _l("Booking marked arrived or no-show"),
    "host_created": _l("Host added"), "host_updated": _l("Host changed"),
    "feed_token_regenerated": _l("Calendar feed link renewed"), "feed_token_revoked": _l("Calendar feed link revoked"),
    "directive.create": _l("Directive created"), "directive.update": _l("Directive changed"),
    "mandate.flag": _l("Appeal registered as a mandate"),
    "mandate.flag_override": _l("Appeal registered as a mandate outside the criteria"),
    "mandate.unflag": _l("Appeal removed from a mandate"), "mandate.update": _l("Mandate changed"),
    "mandate.withdraw": _l("Mandate withdrawn"), "mandate.progress": _l("Mandate progress noted"),
    "mandate.public_text": _l("Mandate's public text changed"),
    "mandate.published": _l("Mandate's public text approved and published"),
    "mandate.unpublished": _l("Mandate taken off the public pages"),
    "office_created": _l("Office created"), "office_updated": _l("Office changed"),
    "region_created": _l("Region created"), "region_updated": _l("Region changed"),
    "district_created": _l("District created"), "district_updated": _l("District changed"),
    "settlement_created": _l("Settlement created"), "settlement_updated": _l("Settlement changed"),
    "category_created": _l("Category created"), "category_updated": _l("Category changed"),
    "settlements_imported": _l("Settlements imported"),
    "attachment_added": _l("File attached"), "attachment_opened": _l("File opened"),
    "attachment_removed": _l("File removed"),
    "attachment_opened_by_applicant": _l("File downloaded by the applicant"),
    "online_appeal_confirmed": _l("Online appeal confirmed by the applicant's code"),
    "mandate.merged": _l("Mandate merged with another (kept)"),
    "mandate.merged_into": _l("Mandate merged into another"),
    "mandate_report.submit": _l("Mandate report submitted"),
    "mandate_report.resubmit": _l("Mandate report submitted again"),
    "mandate_report.approve": _l("Mandate report approved"),
    "mandate_report.return": _l("Mandate report sent back"),
}
OBJECT_TYPES = {
    "appeals": _l("Appeal"), "users": _l("User account"), "mandate_reports": _l("Mandate report"), "reception_sessions": _l("Reception session"),
    "hosts": _l("Host"), "directives": _l("Directive"), "mandates": _l("Mandate"), "offices": _l("Office"),
    "regions": _l("Region"), "districts": _l("District"), "settlements": _l("Settlement"),
    "categories": _l("Category"), "api_tokens": _l("API token"), "deadline_rules": _l("Answer terms"),
    "letter_templates": _l("Answer letter template"),
    "bookings": _l("Booking"),
}
FIELDS = {
    "number": _l("Number"), "office_id": _l("Office"), "status": _l("Status"), "due_date": _l("Deadline"),
    "received_at": _l("Date and time received"), "channel": _l("Channel"), "session_id": _l("Reception session"),
    "host_id": _l("Host who received it"), "applicant_kind": _l("Kind of applicant"),
    "applicant_name": _l("Full name"), "iin": _l("IIN"), "phone": _l("Phone"), "address": _l("Address"),
    "settlement_id": _l("Settlement"), "signatories": _l("Number of signatories"),
    "appeal_type": _l("Type of appeal"), "category_id": _l("Category"), "summary": _l("Summary"),
    "text": _l("Full text"), "responsible_id": _l("Responsible person"), "answer_text": _l("Answer"),
    "answered_at": _l("Date answered"), "withdrawn_reason": _l("Reason"), "reason": _l("Reason"),
    "forwarded_to": _l("Competent body"), "forwarded_at": _l("Date forwarded"),
    "backdate_reason": _l("Why the appeal is registered so late"),
    "suspended_since": _l("Clock stopped since"), "paused_days": _l("Working days paused"),
    "slot_minutes": _l("Minutes per slot"), "slot_capacity": _l("Citizens per slot"),
    "opening": _l("Opening (before the answer)"), "closing": _l("Closing (after the answer)"),
    "statement": _l("Statement"), "complaint": _l("Complaint"), "proposal": _l("Proposal"),
    "response": _l("Response"), "request": _l("Request"),
    "username": _l("Username"), "full_name": _l("Full name"), "email": _l("E-mail"), "role": _l("Role"),
    "offices": _l("Offices"), "region_id": _l("Region"), "main_office": _l("Main office"), "locale": _l("Language"), "is_active_account": _l("Active"), "is_active": _l("Active"),
    "date": _l("Date"), "start_time": _l("Start"), "end_time": _l("End"), "room": _l("Room"), "hosts": _l("Hosts"),
    "code": _l("Code"), "name_kk": _l("Name (Kazakh)"), "name_ru": _l("Name (Russian)"), "name_en": _l("Name (English)"),
    "position": _l("Position in Kazakh"), "position_ru": _l("Position in Russian"), "position_en": _l("Position in English"),
    "kind": _l("Kind"), "attachment": _l("File"), "content_type": _l("File type"), "size": _l("Size, bytes"),
    "appeal": _l("Appeal"), "directive": _l("Directive"), "fields": _l("Fields"),
    "public_title": _l("Public title"), "public_description": _l("Public description"),
    "public_state": _l("Public text"), "responsible_user_id": _l("Responsible person"),
    "responsible": _l("Responsible body"), "language": _l("Language of the answer"),
}
# Fields whose values are codes of an enum: shown by the enum's name.
VALUE_LABELS = {
    "role": labels.ROLE_LABELS, "status": {**labels.SESSION_STATUS_LABELS, **labels.APPEAL_STATUS_LABELS},
    "channel": labels.CHANNEL_LABELS, "appeal_type": labels.APPEAL_TYPE_LABELS,
    "applicant_kind": labels.APPLICANT_KIND_LABELS, "kind": {**labels.OFFICE_KIND_LABELS, **labels.HOST_KIND_LABELS,
             **labels.ATTACHMENT_KIND_LABELS},
    "public_state": {"draft": _l("Draft, not public"), "published": _l("Published")},
    "language": LANGUAGE_NAMES, "locale": LANGUAGE_NAMES,
}


def action_label(code: str) -> str:
    return choice_label(ACTIONS, code)


def object_type_label(code: str) -> str:
    return choice_label(OBJECT_TYPES, code)


def field_label(code: str) -> str:
    return choice_label(FIELDS, code)


def value_label(field: str, value) -> str:
    """A stored value as a person reads it: yes/no, a dash for nothing, enum names, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    if isinstance(value, list):
        return ", ".join(value_label(field, item) for item in value)
    if field in VALUE_LABELS:
        return choice_label(VALUE_LABELS[field], value)
    if field == "fields" and value in FIELDS:
        return field_label(value)
    return str(value)
