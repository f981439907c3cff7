"""RFC 9457 problem details for the API, with translated field-level messages."""
from flask_babel import gettext as _

from appeals.core.errors import KIND_STATUS, DomainError, problem


class ApiError(Exception):
    """An API failure with its HTTP status; `errors` holds field-level messages."""

    def __init__(self, status, detail=None, errors=None, headers=None, title=None):
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.title = title


API_TITLES = {
    401: lambda: _("Authentication required"),
    403: lambda: _("Access denied"),
    404: lambda: _("Not found"),
    409: lambda: _("Conflict"),
    415: lambda: _("Unsupported media type"),
    422: lambda: _("Validation failed"),
}
API_DETAILS = {
    401: lambda: _("Send a valid API token: Authorization: Bearer <token>."),
    403: lambda: _("Your account may not do this."),
    404: lambda: _("No such object, or it is not visible to you."),
    409: lambda: _("The request conflicts with the current state of the object."),
    415: lambda: _("Send the body as JSON with Content-Type: application/json."),
    422: lambda: _("Some fields are invalid."),
}


def problem_response(error):
    title = error.title or (API_TITLES[error.status]() if error.status in API_TITLES else None)
    detail = error.detail or (API_DETAILS[error.status]() if error.status in API_DETAILS else None)
    return problem(error.status, detail, title=title, errors=error.errors, headers=error.headers)


def _field_name(loc):
    return ".".join(str(part) for part in loc)


def _message(error):
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Enter true or false.")
    if kind in ("string_type", "string_sub_type"):
        return _("Enter text.")
    if kind == "string_too_short":
        return _("This field cannot be empty.") if ctx.get("min_length") == 1 else _(
            "At least %(n)d characters.", n=ctx.get("min_length", 0))
    if kind == "string_too_long":
        return _("At most %(n)d characters.", n=ctx.get("max_length", 0))
    if kind == "string_pattern_mismatch":
        return _("The value has the wrong format.")
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid"):
        return _("Enter a date and time as YYYY-MM-DDTHH:MM.")
    if kind in ("time_type", "time_parsing"):
        return _("Enter a time as HH:MM.")
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(values)s.", values=ctx.get("expected", ""))
    if kind in ("greater_than_equal", "greater_than"):
        return _("The value must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("The value must be at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Expected a list.")
    if kind == "too_long":
        return _("At most %(n)d items.", n=ctx.get("max_length", 0))
    if kind == "too_short":
        return _("At least %(n)d items.", n=ctx.get("min_length", 0))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Expected a JSON object.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if kind == "value_error" and "error" in ctx:
        # Our own validators raise ValueError with an already translated message.
        return str(ctx["error"])
    return _("Invalid value.")


def validation_errors(exc, location):
    """pydantic's errors as [{field, location, message}], messages in the user's language."""
    result = []
    for error in exc.errors(include_url=False):
        loc = error.get("loc") or ()
        if error["type"] == "extra_forbidden" or not loc:
            name = _field_name(loc)
        else:
            # Union and tagged variants add the type name to the location; the client cares about its field.
            parts = [part for part in loc if not (isinstance(part, str) and part[:1].isupper())]
            if location == "query":
                # A repeated query parameter is one parameter to the client, not a list index.
                parts = [part for part in parts if not isinstance(part, int)]
            name = _field_name(parts)
        result.append({"field": name, "location": location, "message": _message(error)})
    return result


def domain_error_to_api(exc):
    """An ApiError for a service's rule error (any DomainError, by its kind), or None when `exc` is not one."""
    if not isinstance(exc, DomainError):
        return None
    return ApiError(KIND_STATUS[exc.kind], exc.message, errors=exc.problem_errors() or None)
