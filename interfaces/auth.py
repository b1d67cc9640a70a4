"""Who is calling: an access token's user and session, the same for HTTP requests and Socket.IO handshakes."""

from infrastructure.tokens import Claims, InvalidToken, Tokens
from interfaces.errors import Unauthorized

NO_SUCH_USER = "Invalid access token: no such user."
SESSION_ENDED = "Invalid access token: its session has ended (signed out); sign in again."


def token_claims(tokens: Tokens, token: str) -> Claims:
    """The user and session a token was signed for (the signature and expiry checked; not yet whether
    the user exists or the session is live)."""
    try:
        return tokens.verify(token)
    except InvalidToken as error:
        raise Unauthorized(f"Invalid access token: {error}.") from None
