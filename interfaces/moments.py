"""`--at` and `?at=`: a log position (an integer) or a moment (ISO 8601; UTC when no offset is given)."""

from datetime import UTC, datetime

from domain.errors import InvalidInput


def parse_at(text: str) -> int | datetime:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return parse_moment(text)


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is neither a log position nor an ISO 8601 time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
