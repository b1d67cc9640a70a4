"""Password hashing with argon2id (argon2-cffi: the maintained binding of the reference implementation)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    def __init__(self, time_cost: int = 2, memory_cost_kib: int = 19 * 1024) -> None:
        # OWASP's argon2id minimum (19 MiB, 2 iterations): memory-hard, about 20 ms here.
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
        self._dummy_hash = self._hasher.hash("a password nobody has")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Takes as long for an unknown user (password_hash None) as for a wrong password."""
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
