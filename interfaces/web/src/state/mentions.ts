// Mentions (contract section 6): `@username` at the start or after whitespace or punctuation; the
// name is the run of a-z 0-9 _ . - after it or, if that names nobody, the run less trailing . and -.
// In a group `@all` mentions every other member. The server decides who is mentioned (a message's
// `mentions`); the client finds the spans to highlight and offers members while typing.
import type { ConversationSummary, User } from '../api/types';

const NAME_RUN = /[a-z0-9_.-]/i;
const BEFORE_AT = /[\s\p{P}]/u;
export const ALL = 'all';

export interface Segment {
  text: string;
  /** null: plain text; 'me': a mention of the user; 'other': a mention of someone else. */
  mention: null | 'me' | 'other';
}

function nameAt(body: string, start: number, known: (name: string) => boolean): string {
  let end = start;
  while (end < body.length && NAME_RUN.test(body[end])) end += 1;
  const run = body.slice(start, end);
  if (known(run.toLowerCase())) return run;
  return run.replace(/[.-]+$/, '');
}

/**
 * Splits `body` into plain text and mentions of known people. `usernames` are the members who can be
 * mentioned (lower case); `meUsername` is the user's own; `mentionsMe` says whether the server counted
 * the message as mentioning the user (so `@all` is highlighted only where it really applies).
 */
export function mentionSegments(
  body: string,
  usernames: ReadonlySet<string>,
  meUsername: string | null,
  mentionsMe: boolean,
  group: boolean,
): Segment[] {
  const segments: Segment[] = [];
  const known = (name: string) => usernames.has(name) || name === meUsername || (group && name === ALL);
  let plainFrom = 0;
  let i = 0;
  while (i < body.length) {
    const at = body.indexOf('@', i);
    if (at < 0) break;
    i = at + 1;
    if (at > 0 && !BEFORE_AT.test(body[at - 1])) continue;
    const name = nameAt(body, at + 1, known);
    const lower = name.toLowerCase();
    if (name === '' || !known(lower)) continue;
    const mine = mentionsMe && (lower === meUsername || (group && lower === ALL));
    if (at > plainFrom) segments.push({ text: body.slice(plainFrom, at), mention: null });
    segments.push({ text: body.slice(at, at + 1 + name.length), mention: mine ? 'me' : 'other' });
    plainFrom = at + 1 + name.length;
    i = plainFrom;
  }
  if (plainFrom < body.length || segments.length === 0) segments.push({ text: body.slice(plainFrom), mention: null });
  return segments;
}

export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number;
  /** What follows the `@` up to the caret. */
  query: string;
}

/** The `@name` being typed just before the caret, if any. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(?:^|[\s\p{P}])@([a-z0-9_.-]*)$/iu.exec(before);
  if (!match) return null;
  return { start: caret - match[1].length - 1, query: match[1] };
}

export interface MentionCandidate {
  /** What is inserted after the `@`. */
  username: string;
  label: string;
}

/**
 * The current members (other than the user) whose username or display name starts with `query`,
 * and `@all` in a group; at most `limit`, the best (username) matches first.
 */
export function mentionCandidates(
  summary: ConversationSummary | undefined,
  meId: string,
  query: string,
  limit = 6,
): MentionCandidate[] {
  if (!summary) return [];
  const q = query.toLowerCase();
  const others = summary.members
    .map((m) => m.user)
    .filter((u): u is User & { username: string } => u.id !== meId && u.username !== null && !u.deleted);
  const byUsername = others.filter((u) => u.username.startsWith(q));
  const byName = others.filter(
    (u) => !u.username.startsWith(q) && u.display_name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)),
  );
  const found: MentionCandidate[] = [...byUsername, ...byName].map((u) => ({
    username: u.username,
    label: u.display_name,
  }));
  if (summary.kind === 'group' && ALL.startsWith(q) && others.length > 0) {
    found.push({ username: ALL, label: 'Everyone in this group' });
  }
  return found.slice(0, limit);
}

/** The text with the `@query` at `at` replaced by `@username ` and where the caret goes after it. */
export function insertMention(text: string, at: MentionQuery, username: string): { text: string; caret: number } {
  const end = at.start + 1 + at.query.length;
  const rest = text.slice(end);
  const inserted = `@${username}${rest.startsWith(' ') ? '' : ' '}`;
  return { text: text.slice(0, at.start) + inserted + rest, caret: at.start + inserted.length + (rest.startsWith(' ') ? 1 : 0) };
}
