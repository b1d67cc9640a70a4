"""Access tokens: HS256 JWTs whose subject is the user id and whose `sid` is their session's id."""

import time
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

import jwt


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Claims:
    user_id: UUID
    session_id: UUID


class Tokens:
    ALGORITHMS: ClassVar[list[str]] = ["HS256"]

    def __init__(self, secret: str, ttl_seconds: int, refresh_ttl_seconds: int = 2592000) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self.refresh_ttl_seconds = refresh_ttl_seconds

    def issue(self, user_id: UUID | str, session_id: UUID | str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "sid": str(session_id), "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Claims:
        """The token's user and session (signature and expiry checked; a token without a session, from
        before sessions, is refused)."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=self.ALGORITHMS, options={"require": ["exp", "sub", "sid"]}
            )
            return Claims(UUID(claims["sub"]), UUID(claims["sid"]))
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error) or "invalid token") from None
