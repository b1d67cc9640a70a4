"""The published documents of the wire contract, generated from its declarations
(interfaces/contract.py, interfaces/schemas.py, projections/shapes.py): OpenAPI 3.1 for the HTTP API,
AsyncAPI 3.0 for the Socket.IO events, and one JSON Schema of every shape (for the web client's
generated TypeScript types)."""

from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from interfaces import schemas
from interfaces.contract import ALL_SHAPES, CLIENT_EVENTS, ENDPOINTS, SERVER_EVENTS, Endpoint

COMPONENTS = "#/components/schemas/{model}"
REQUESTS: tuple[type[BaseModel], ...] = tuple(
    model
    for model in vars(schemas).values()
    if isinstance(model, type)
    and issubclass(model, BaseModel)
    and model.__module__ == schemas.__name__
    and model not in (schemas.Payload, schemas.OneDirection)
)


def name(shape: Any) -> str:
    return str(getattr(shape, "__name__", shape))


def definitions(ref_template: str) -> dict[str, Any]:
    """JSON Schemas of every shape (as sent) and every request payload (as accepted), by name."""
    adapters = [(name(s), "serialization", TypeAdapter(s)) for s in ALL_SHAPES]
    adapters += [(m.__name__, "validation", TypeAdapter(m)) for m in REQUESTS]
    _, found = TypeAdapter.json_schemas(adapters, ref_template=ref_template)  # type: ignore[arg-type]
    return {key: _without_field_titles(value) for key, value in found.get("$defs", {}).items()}


def _without_field_titles(schema: Any) -> Any:
    """Drop the titles pydantic gives each field ("Last Read Seq"): generators would make a type of each."""
    if isinstance(schema, dict):
        cleaned = {k: _without_field_titles(v) for k, v in schema.items() if k != "properties"}
        if "properties" in schema:
            cleaned["properties"] = {
                field: {k: _without_field_titles(v) for k, v in value.items() if k != "title"}
                for field, value in schema["properties"].items()
            }
        return cleaned
    if isinstance(schema, list):
        return [_without_field_titles(item) for item in schema]
    return schema


def ref(shape: Any) -> dict[str, str]:
    return {"$ref": COMPONENTS.format(model=name(shape))}


@cache
def openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Parley HTTP API",
            "version": "2",
            "description": "The wire contract's HTTP part; the Socket.IO part is /api/asyncapi.json.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions(COMPONENTS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "responses": {
            str(status): {"description": name(body), "content": {"application/json": {"schema": ref(body)}}}
            for status, body in endpoint.answers.items()
        },
    }
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for part in endpoint.path.split("/")
        if part.startswith("{")
    ]
    if endpoint.query is not None:
        query_schema = endpoint.query.model_json_schema()
        required = set(query_schema.get("required", []))
        parameters += [
            {"name": field, "in": "query", "required": field in required, "schema": schema}
            for field, schema in query_schema["properties"].items()
        ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(endpoint.body)}}}
    if endpoint.authenticated:
        operation["security"] = [{"bearer": []}]
    return operation


@cache
def asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0: one channel (the Socket.IO namespace `/`), a message per event, an operation per
    event: the server receives each client event and replies with its ack; it sends each server event."""
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event in CLIENT_EVENTS:
        messages[event.name] = {"name": event.name, "payload": ref(event.payload)}
        messages[f"{event.name}_ack"] = {
            "name": f"{event.name} ack",
            "payload": {"oneOf": [ref(event.ack), ref("Refused")]},
        }
        operations[event.name] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/socket"},
            "messages": [{"$ref": f"#/channels/socket/messages/{event.name}"}],
            "reply": {
                "channel": {"$ref": "#/channels/socket"},
                "messages": [{"$ref": f"#/channels/socket/messages/{event.name}_ack"}],
            },
        }
    for server_event in SERVER_EVENTS:
        messages[server_event.name] = {
            "name": server_event.name,
            "summary": f"To {server_event.to}.",
            "payload": ref(server_event.payload),
        }
        operations[server_event.name] = {
            "action": "send",
            "channel": {"$ref": "#/channels/socket"},
            "messages": [{"$ref": f"#/channels/socket/messages/{server_event.name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Parley Socket.IO events",
            "version": "2",
            "description": "Socket.IO at /socket.io/, namespace '/', Engine.IO v4. Each client event takes "
            "an acknowledgement callback; its argument is the reply. Authenticate the "
            "handshake with auth: {token}.",
        },
        "defaultContentType": "application/json",
        "channels": {"socket": {"address": "/", "messages": messages}},
        "operations": operations,
        "components": {"schemas": definitions(COMPONENTS)},
    }


def json_schema() -> dict[str, Any]:
    """Every shape under `$defs`, for code generators (the web client's TypeScript types)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Parley wire contract",
        "$defs": definitions("#/$defs/{model}"),
    }
