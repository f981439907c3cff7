"""The API's single source of truth: every endpoint is declared once, with its schemas.

`endpoint()` registers the Flask route *and* records the method, path, parameters, request and
response models and the possible errors. The OpenAPI document and the docs page are built from
these records, so the published contract cannot drift from the code that serves it.

The wrapper does what every endpoint needs, in a fixed order: Bearer authentication (401),
the per-token rate limit (429), the role check (403), query validation (422), body parsing
(400/413/415/422; a file upload: multipart/form-data, its text fields validated by `upload`),
idempotent replay (409), then the view, whose result is serialised through the declared response model.
"""
import json
import re
from dataclasses import dataclass, field
from functools import wraps
from typing import Optional, get_args, get_origin

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import RequestEntityTooLarge

from appeals.api.problems import ApiError, problem_response, validation_errors
from appeals.auth.permissions import can

MAX_ID = 2**31 - 1
# JSON bodies are small; the app-wide MAX_CONTENT_LENGTH is sized for file uploads.
API_MAX_BODY_BYTES = 256 * 1024
# A bulk call carries up to 500 rows.
API_MAX_BULK_BODY_BYTES = 4 * 1024 * 1024
COMMON_ERRORS = (400, 401, 413, 429)

ERROR_DESCRIPTIONS = {
    400: "Malformed request (for example, invalid JSON).",
    401: "Missing, unknown or revoked token.",
    403: "The token's user may not do this (role, or another office's object).",
    404: "No such object, or not visible to this user.",
    409: "Conflict with the object's state, or an Idempotency-Key reused with a different request.",
    413: "The request body is larger than allowed.",
    415: "The body must be JSON (Content-Type: application/json), or multipart/form-data for a file upload.",
    422: "Validation failed; `errors` lists the fields.",
    429: "Too many requests for this token or its account; see Retry-After and the RateLimit-* headers.",
}


@dataclass
class Endpoint:
    method: str
    rule: str
    name: str
    summary: str
    tag: str
    description: str = ""
    query: Optional[type[BaseModel]] = None
    body: Optional[type[BaseModel]] = None
    response: Optional[type[BaseModel]] = None
    status: int = 200
    errors: tuple = ()
    permission: Optional[str] = None
    idempotent: bool = False
    public: bool = False
    path_params: dict = field(default_factory=dict)
    # A document endpoint: the success body is a file of this media type (the view returns a Response) ...
    media_type: Optional[str] = None
    # ... or, for a large one, 202 with this body (a background job) and a Location header.
    accepted: Optional[type[BaseModel]] = None
    # A file upload: the body is multipart/form-data; this model checks its text fields, and its
    # FILES_FIELD names the file part(s) (the view reads them; the service checks the bytes).
    upload: Optional[type[BaseModel]] = None

    @property
    def media_types(self):
        return self.media_type if isinstance(self.media_type, tuple) else (self.media_type,)

    @property
    def openapi_path(self):
        return re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", self.rule)

    @property
    def all_errors(self):
        codes = set() if self.public else set(COMMON_ERRORS)
        codes.update(self.errors)
        if self.body is not None or self.upload is not None:
            codes.update((415, 422))
        if self.query is not None or self.path_params:
            codes.add(422 if self.query is not None else 404)
        if self.path_params:
            codes.add(404)
        if self.permission:
            codes.add(403)
        if self.idempotent:
            codes.add(409)
        if self.public:
            codes.discard(401)
        return tuple(sorted(codes))


REGISTRY: list[Endpoint] = []


def _path_params(rule):
    params = {}
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        params[name] = converter or "string"
    return params


def _is_list(annotation):
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def _query_data(model):
    data = {}
    for key in request.args:
        info = model.model_fields.get(key)
        if info is not None and _is_list(info.annotation):
            data[key] = request.args.getlist(key)
        else:
            values = request.args.getlist(key)
            data[key] = values[0] if len(values) == 1 else values
    return data


def _read_body(model, limit=API_MAX_BODY_BYTES):
    request.max_content_length = min(current_app.config.get("MAX_CONTENT_LENGTH") or limit, limit)
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(422, _("The request body is empty; a JSON object is expected."), errors=[
            {"field": "", "location": "body", "message": _("A JSON object is expected.")}
        ])
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, _("Send the body as JSON with Content-Type: application/json."))
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        position = ""
        if isinstance(exc, json.JSONDecodeError):
            position = _(" (line %(line)d, column %(column)d)", line=exc.lineno, column=exc.colno)
        raise ApiError(400, _("The body is not valid JSON%(position)s.", position=position)) from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(422, _("Some fields are invalid."), errors=validation_errors(exc, "body")) from None


def _read_upload(model):
    """The text fields of a multipart/form-data request as `model`; the files stay in request.files
    (each within the app's MAX_CONTENT_LENGTH, the only cap a file upload has here)."""
    request.max_content_length = current_app.config.get("MAX_CONTENT_LENGTH")
    if (request.mimetype or "") != "multipart/form-data":
        raise ApiError(415, _("Send the files as multipart/form-data."))
    try:
        fields = request.form
        request.files  # noqa: B018 - parsed here, so that a body over the cap is refused before the view
    except RequestEntityTooLarge:
        raise ApiError(413) from None
    data = {key: values[0] if len(values) == 1 else values for key, values in fields.lists()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, _("Some fields are invalid."), errors=validation_errors(exc, "body")) from None


def _as_sent(model, errors):
    """Errors name the parameter as the client sent it: its old name, if that is what it used."""
    sent_as = {new: old for old, new in model.RENAMED.items() if old in request.args}
    for error in errors:
        error["field"] = sent_as.get(error["field"], error["field"])
    return errors


def _check_path_args(endpoint, kwargs):
    for name, converter in endpoint.path_params.items():
        if converter == "int" and not (0 <= kwargs.get(name, 0) <= MAX_ID):
            raise ApiError(404)


def serialise(model, result):
    if model is None:
        return None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return model.model_validate(result, from_attributes=True).model_dump(mode="json")


def endpoint(bp, method, rule, *, summary, tag, description="", query=None, body=None, response=None,
             status=200, errors=(), permission=None, idempotent=False, public=False, media_type=None, accepted=None,
             bulk=False, upload=None):
    """Declare an API endpoint (see the module docstring); the view gets `query=` and `body=`."""

    def decorator(view):
        spec = Endpoint(
            method=method, rule=rule, name=view.__name__, summary=summary, tag=tag,
            description=description or (view.__doc__ or "").strip(), query=query, body=body,
            response=response, status=status, errors=tuple(errors), permission=permission,
            idempotent=idempotent, public=public, path_params=_path_params(rule), media_type=media_type,
            accepted=accepted, upload=upload,
        )

        @wraps(view)
        def wrapped(**kwargs):
            from appeals.api import auth, idempotency

            try:
                if not public:
                    auth.authenticate_request()
                if permission and not can(g.api_user, permission):
                    raise ApiError(403)
                _check_path_args(spec, kwargs)
                if query is not None:
                    try:
                        kwargs["query"] = query.model_validate(_query_data(query))
                    except ValidationError as exc:
                        raise ApiError(422, _("Some query parameters are invalid."),
                                       errors=_as_sent(query, validation_errors(exc, "query"))) from None
                if body is not None:
                    kwargs["body"] = _read_body(body, API_MAX_BULK_BODY_BYTES if bulk else API_MAX_BODY_BYTES)
                if upload is not None:
                    kwargs["form"] = _read_upload(upload)
                if idempotent:
                    return idempotency.run_once(g.api_user, lambda: _call(spec, view, kwargs))
                return _call(spec, view, kwargs)
            except ApiError as exc:
                return problem_response(exc)

        REGISTRY.append(spec)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        from appeals.core.extensions import csrf

        # Bearer tokens only, never cookies, so cross-site request forgery cannot apply.
        csrf.exempt(wrapped)
        return wrapped

    return decorator


def _call(spec, view, kwargs):
    from appeals.api.problems import domain_error_to_api

    try:
        result = view(**kwargs)
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - only the services' own rule errors are translated
        converted = domain_error_to_api(exc)
        if converted is None:
            raise
        raise converted from None
    if isinstance(result, Response):
        return result
    status, headers = spec.status, {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    if spec.response is None:
        response = Response(status=status)
    else:
        response = current_app.response_class(
            json.dumps(serialise(spec.response, result), ensure_ascii=False, separators=(",", ":")),
            status=status, mimetype="application/json",
        )
    for key, value in headers.items():
        response.headers[key] = value
    return response


def json_response(model, result, status=200, headers=None):
    """A JSON body of `model` from a view that answers with something else too (a document or its job)."""
    response = current_app.response_class(
        json.dumps(serialise(model, result), ensure_ascii=False, separators=(",", ":")),
        status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


# RFC 9745: the date the old parameter names were deprecated (release 1.1), and where the new ones are.
DEPRECATED_SINCE = "@1796083200"  # 2026-12-01


def deprecated_headers(response):
    """Deprecation and Link headers when the request used a parameter's old name (QueryModel.RENAMED)."""
    used = g.get("api_deprecated_names")
    if used:
        response.headers["Deprecation"] = DEPRECATED_SINCE
        response.headers["Link"] = '</api/v1/docs#deprecated>; rel="deprecation"'
        response.headers["X-Deprecated-Parameters"] = ", ".join(used)


# --- OpenAPI 3.1 -------------------------------------------------------------------------------


def _components_and_refs():
    from appeals.api.schemas.base import Problem

    keys = []
    for spec in REGISTRY:
        for model, mode in ((spec.query, "validation"), (spec.body, "validation"), (spec.response, "serialization"),
                            (spec.accepted, "serialization")):
            if model is not None and (model, mode) not in keys:
                keys.append((model, mode))
    keys.append((Problem, "serialization"))
    refs, top = models_json_schema(keys, ref_template="#/components/schemas/{model}")
    return top.get("$defs", {}), refs


def _query_parameters(model, schemas, refs):
    ref = refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]
    definition = schemas.pop(ref)
    required = set(definition.get("required", ()))
    params = []
    for name, schema in definition.get("properties", {}).items():
        param = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            param["description"] = schema["description"]
        if schema.get("type") == "array" or any(s.get("type") == "array" for s in schema.get("anyOf", ())):
            param.update(style="form", explode=True)
        params.append(param)
    for old, new in model.RENAMED.items():
        target = next(param for param in params if param["name"] == new)
        params.append({**target, "name": old, "required": False, "deprecated": True,
                       "description": f"Old name of `{new}`, accepted for one more release (the response "
                                      f"then has a Deprecation header)."})
    return params


def _path_parameter(name, converter):
    schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def openapi_document(title, version, server_url):
    schemas, refs = _components_and_refs()
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    paths = {}
    for spec in REGISTRY:
        operation = {
            "operationId": spec.name,
            "summary": spec.summary,
            "tags": [spec.tag],
            "parameters": [_path_parameter(n, c) for n, c in spec.path_params.items()],
            "responses": {},
        }
        if spec.description:
            operation["description"] = spec.description
        if spec.query is not None:
            operation["parameters"] += _query_parameters(spec.query, schemas, refs)
        if spec.idempotent:
            operation["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "Any unique string (a UUID): a retry with the same key and body returns the first "
                               "response instead of creating the object again.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
            })
        if not operation["parameters"]:
            del operation["parameters"]
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        success = {"description": "Success"}
        if spec.response is not None:
            success["content"] = {"application/json": {"schema": refs[(spec.response, "serialization")]}}
        if spec.upload is not None:
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _upload_schema(spec.upload)}}}
        if spec.media_type is not None:
            success = {"description": "The document.",
                       "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in spec.media_types}}
        if not spec.public:
            success["headers"] = dict(RATE_LIMIT_HEADER_REFS)
        operation["responses"][str(spec.status)] = success
        if spec.accepted is not None:
            operation["responses"]["202"] = {
                "description": "Too large to make at once: made by a background job. Poll the job (Location) "
                               "until its status is done, then fetch its download link.",
                "headers": {"Location": {"schema": {"type": "string"}, "description": "The job resource."}},
                "content": {"application/json": {"schema": refs[(spec.accepted, "serialization")]}},
            }
        for code in spec.all_errors:
            operation["responses"][str(code)] = {"$ref": f"#/components/responses/Problem{code}"}
        if spec.public:
            operation["security"] = []
        paths.setdefault(spec.openapi_path, {})[spec.method.lower()] = operation
    responses = {}
    for code, text in ERROR_DESCRIPTIONS.items():
        entry = {"description": text, "content": {"application/problem+json": {"schema": problem_ref}}}
        if code == 429:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
                                **RATE_LIMIT_HEADER_REFS}
        if code == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[f"Problem{code}"] = entry
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": title,
            "version": version,
            "description": "JSON API of Qabyldau: reception schedules, the appeals register, directives and "
                           "mandates. Authenticate with a personal token: `Authorization: Bearer <token>`. "
                           "Errors are RFC 9457 problem details (application/problem+json).",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in sorted({spec.tag for spec in REGISTRY}, key=_tag_order)],
        "paths": paths,
        "components": {
            "headers": RATE_LIMIT_HEADERS,
            "schemas": dict(sorted(schemas.items())),
            "responses": responses,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def _upload_schema(model):
    """The multipart body: the model's text fields and its file part(s), one or more files."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    name = model.FILES_FIELD
    schema.setdefault("properties", {})[name] = {
        "type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
        "description": model.FILES_DESCRIPTION}
    schema["required"] = [*schema.get("required", ()), name]
    return schema


# On every authenticated response, errors included: the tighter of the token's and the account's budgets.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "Requests allowed in the current one-minute window (the tighter of the "
                                       "token's and the account's budgets).", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the window.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window ends.", "schema": {"type": "integer"}},
}
RATE_LIMIT_HEADER_REFS = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}

TAG_ORDER = ("Reference", "Schedules", "Appeals", "Directives", "Mandates", "Statistics", "Documents", "Meta")


def _tag_order(tag):
    return TAG_ORDER.index(tag) if tag in TAG_ORDER else len(TAG_ORDER)


def endpoints_by_tag():
    grouped: dict[str, list[Endpoint]] = {}
    for spec in REGISTRY:
        grouped.setdefault(spec.tag, []).append(spec)
    return sorted(grouped.items(), key=lambda item: _tag_order(item[0]))

