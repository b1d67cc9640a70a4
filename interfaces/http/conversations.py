"""/api/conversations: the caller's conversation list and a conversation's message history."""

from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.errors import ConversationNotFound
from interfaces.http.common import current_user, ok, query, services
from interfaces.moments import parse_at
from interfaces.schemas import ConversationPage, MessagePage
from projections.history import conversation_at


async def list_conversations(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    page = query(request, ConversationPage)
    http = services(request)
    conversations, next_cursor = await http.run.query(
        user_id, http.queries.conversations, user_id, page.limit, page.before
    )
    return ok({"conversations": conversations, "next_cursor": next_cursor})


async def unread(request: Request) -> JSONResponse:
    """Unread messages over the caller's conversations not muted; mentions over all (section 8)."""
    user_id = await current_user(request)
    http = services(request)
    unread_count, mention_count = await http.run.call(http.queries.unread_totals, user_id)
    return ok({"unread_count": unread_count, "mention_count": mention_count})


async def list_messages(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    conversation_id = _conversation_id(request)
    page = query(request, MessagePage)
    http = services(request)
    messages, has_more = await http.run.query(
        user_id, http.queries.messages, conversation_id, user_id, page.before_seq, page.after_seq, page.limit
    )
    return ok({"messages": messages, "has_more": has_more})


async def history(request: Request) -> JSONResponse:
    """The conversation as it was at `?at=` (a log position or an ISO 8601 time), from the events."""
    user_id = await current_user(request)
    conversation_id = _conversation_id(request)
    http = services(request)
    raw_at = request.query_params.get("at")
    at = parse_at(raw_at) if raw_at else None
    snapshot = await http.run.call(conversation_at, http.commands, http.positions, conversation_id, at, user_id)
    return ok(snapshot)


def _conversation_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["id"])
    except ValueError:
        raise ConversationNotFound("No such conversation.") from None


routes = [
    Route("/api/conversations", list_conversations, methods=["GET"]),
    Route("/api/unread", unread, methods=["GET"]),
    Route("/api/conversations/{id}/messages", list_messages, methods=["GET"]),
    Route("/api/conversations/{id}/history", history, methods=["GET"]),
]
