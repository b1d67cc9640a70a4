"""Who is calling: an access token's user, the same for HTTP requests and Socket.IO handshakes."""

from uuid import UUID

from infrastructure.tokens import InvalidToken, Tokens
from interfaces.errors import Unauthorized

NO_SUCH_USER = "Invalid access token: no such user."


def token_user(tokens: Tokens, token: str) -> UUID:
    """The user a token was signed for (the signature and expiry checked; not yet whether they exist)."""
    try:
        return tokens.verify(token)
    except InvalidToken as error:
        raise Unauthorized(f"Invalid access token: {error}.") from None
