"""Fakes for fast unit tests of the domain and application (never a replacement for integration tests)."""


class PlainPasswords:
    """Stands in for argon2id in unit tests: same interface, no cost."""

    def hash(self, password: str) -> str:
        return "plain$" + password

    def verify(self, password_hash: str | None, password: str) -> bool:
        return password_hash == "plain$" + password
