"""Request and response schemas of the API (pydantic v2), one module per domain as in api/endpoints/;
the OpenAPI document is built from them."""
