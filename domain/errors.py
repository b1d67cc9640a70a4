"""Domain errors: each names a broken rule. interfaces/errors.py maps them to wire error codes."""


class DomainError(Exception):
    """A command broke a rule of the domain; nothing was changed."""


class InvalidInput(DomainError):
    """A value does not meet the domain's format (username, body, title...)."""


class UsernameTaken(DomainError):
    """Another user has this username (compared case-insensitively)."""


class UserNotFound(DomainError):
    """No user has this id or username."""


class ConnectionNotFound(DomainError):
    """No connection has this id."""


class ConnectionExists(DomainError):
    """The two users' connection is already pending or connected."""


class NotAParty(DomainError):
    """The user is not the one allowed to act on this connection."""


class InvalidState(DomainError):
    """The connection is not in the state this action needs (e.g. not pending)."""


class NotConnected(DomainError):
    """The users are not `connected`, which this action needs."""


class ConversationNotFound(DomainError):
    """No conversation has this id."""


class NotAMember(DomainError):
    """The user is not a member of the conversation."""


class InvalidCredentials(DomainError):
    """The username and password do not match."""


class MessageNotFound(DomainError):
    """No message of this conversation has this id."""


class Forbidden(DomainError):
    """The user may not do this to this message (edit another's, delete another's outside a group they own)."""
