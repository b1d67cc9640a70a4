"""Domain errors: each names a broken rule. interfaces/errors.py maps them to wire error codes."""


class DomainError(Exception):
    """A command broke a rule of the domain; nothing was changed."""


class InvalidInput(DomainError):
    """A value does not meet the domain's format (username, body, title...)."""


class UsernameTaken(DomainError):
    pass


class UserNotFound(DomainError):
    pass


class ConnectionNotFound(DomainError):
    pass


class ConnectionExists(DomainError):
    pass


class NotAParty(DomainError):
    """The user is not the one allowed to act on this connection."""


class InvalidState(DomainError):
    pass


class NotConnected(DomainError):
    pass


class ConversationNotFound(DomainError):
    pass


class NotAMember(DomainError):
    pass


class InvalidCredentials(DomainError):
    pass
