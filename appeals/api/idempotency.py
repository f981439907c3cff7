"""Idempotency-Key on POST: a field team's retry returns the first answer instead of a duplicate.

The key is reserved in its own transaction before the service runs, then completed with the
response. A retry that finds the key completed gets the stored response; one that finds it still
reserved (the first request is running, or died after its service committed) gets 409 rather
than risk registering the same appeal twice. A request rejected by validation or a rule frees
its key, so the client can correct the body and retry with the same key.
"""
import hashlib
import json
import re

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from appeals.api.problems import ApiError
from appeals.core.idempotency import complete_key, release_key, reserve_key, stored_response

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")


def _multipart_canonical():
    """A file upload as its fields and each file's name and digest: a retry's new multipart boundary
    does not make it a different request."""
    files = []
    for field, item in request.files.items(multi=True):
        item.stream.seek(0)
        files.append([field, item.filename or "", hashlib.sha256(item.stream.read()).hexdigest()])
        item.stream.seek(0)
    return json.dumps({"fields": sorted(request.form.items(multi=True)), "files": files},
                      sort_keys=True, separators=(",", ":")).encode()


def _request_hash():
    if request.mimetype == "multipart/form-data":
        canonical = _multipart_canonical()
    else:
        body = request.get_data(cache=True)
        try:
            # Key order and spacing do not make two requests different.
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _replay(entry, key):
    response = current_app.response_class(stored_response(key, entry) or "", status=entry.response_status,
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def run_once(user, call):
    key = request.headers.get(HEADER)
    if key is None:
        return call()
    if not KEY_PATTERN.match(key):
        raise ApiError(422, _("The Idempotency-Key must be 1 to 200 visible ASCII characters."),
                       errors=[{"field": HEADER, "location": "header", "message": _("The value has the wrong format.")}])
    request_hash = _request_hash()
    try:
        existing = reserve_key(user.id, key, request.method, request.path, request_hash)
    except IntegrityError:
        # Another request with the same key reserved it a moment ago.
        raise ApiError(409, _("A request with this Idempotency-Key is still being processed.")) from None
    if existing is not None:
        if existing.request_hash != request_hash:
            raise ApiError(409, _("This Idempotency-Key was already used for a different request."))
        if existing.response_status is None:
            raise ApiError(409, _("A request with this Idempotency-Key is still being processed."))
        return _replay(existing, key)
    try:
        response = call()
    except BaseException:
        release_key(user.id, key)
        raise
    if response.status_code >= 400:
        release_key(user.id, key)
        return response
    complete_key(user.id, key, response.status_code, response.get_data(as_text=True))
    return response
