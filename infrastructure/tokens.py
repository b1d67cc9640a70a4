"""Access tokens: HS256 JWTs whose subject is the user id."""

import time
from typing import ClassVar
from uuid import UUID

import jwt


class InvalidToken(Exception):
    pass


class Tokens:
    ALGORITHMS: ClassVar[list[str]] = ["HS256"]

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: UUID | str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> UUID:
        try:
            claims = jwt.decode(token, self._secret, algorithms=self.ALGORITHMS, options={"require": ["exp", "sub"]})
            return UUID(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error) or "invalid token") from None
