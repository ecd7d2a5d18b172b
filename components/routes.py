"""The public routes of a model (pure): what the gateway declares and what a model's scaler watches.

POST /v1/models/<model>/generate          TGI /generate, buffered
POST /v1/models/<model>/generate_stream   TGI /generate_stream, response streaming
POST /v1/models/<model>/chat/completions  the engine's OpenAI-compatible /v1/chat/completions
"""

from __future__ import annotations

from dataclasses import dataclass

METHOD = "POST"


@dataclass(frozen=True)
class Route:
    """One public route and the model-server path it proxies to."""

    path: str
    """Resource path under the model, e.g. `generate` or `chat/completions`."""
    upstream: str
    """Path on the model server (TGI)."""
    stream: bool
    schema: str
    """`generate` or `chat`: the request body model."""


ROUTES = (
    Route("generate", "/generate", stream=False, schema="generate"),
    Route("generate_stream", "/generate_stream", stream=True, schema="generate"),
    Route("chat/completions", "/v1/chat/completions", stream=True, schema="chat"),
)
# vLLM serves the OpenAI API only (no TGI /generate): its models get the chat route.
ENGINE_ROUTES = {"tgi": ROUTES, "vllm": tuple(route for route in ROUTES if route.schema == "chat")}


def resource_path(model: str, route: Route) -> str:
    """The route's API Gateway resource path: the `Resource` dimension of its per-method metrics."""
    return f"/v1/models/{model}/{route.path}"


def resource_paths(model: str, engine: str) -> tuple[str, ...]:
    return tuple(resource_path(model, route) for route in ENGINE_ROUTES[engine])
