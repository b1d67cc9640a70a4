import { useMemo } from 'react';
import { mentionSegments } from '../state/mentions';

interface Props {
  body: string;
  /** Lower-case usernames of the people who can be mentioned here. */
  usernames: ReadonlySet<string>;
  meUsername: string | null;
  /** The server counted this message as mentioning the user. */
  mentionsMe: boolean;
  group: boolean;
}

/** A message body as plain text (never HTML), with mentions marked and those of the user highlighted. */
export function MessageText({ body, usernames, meUsername, mentionsMe, group }: Props) {
  const segments = useMemo(
    () => mentionSegments(body, usernames, meUsername, mentionsMe, group),
    [body, usernames, meUsername, mentionsMe, group],
  );
  return (
    <p className="msg-body">
      {segments.map((s, i) =>
        s.mention === 'me' ? (
          <mark key={i} className="mention mention-me">
            {s.text}
          </mark>
        ) : s.mention === 'other' ? (
          <span key={i} className="mention">
            {s.text}
          </span>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}
