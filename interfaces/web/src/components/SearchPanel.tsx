import { useCallback, useEffect, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { SearchResult } from '../api/types';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import { excerpt, highlightSegments, initialSearch, searchable, searchReducer } from '../state/search';
import { conversationTitle, knownUsers } from '../state/selectors';
import { attachmentsSummary } from '../state/uploads';
import { formatShort } from '../util/time';

/** How long typing must pause before the query goes out. */
const DEBOUNCE_MS = 250;

/**
 * A field `Search messages` (searches as the user types; Enter at once, Escape clears) and its
 * results, newest first, in a list `Search results`: each names its conversation and sender, shows
 * the text with the matches highlighted, and opens the message in its conversation when clicked.
 */
export function SearchPanel() {
  const client = useChat();
  const [text, setText] = useState('');
  const [search, dispatch] = useReducer(searchReducer, initialSearch);
  const requestIds = useRef(0);
  const inputRef = useRef<HTMLInputElement>(null);

  const run = useCallback(
    async (query: string, before: string | null) => {
      requestIds.current += 1;
      const requestId = requestIds.current;
      dispatch({ type: 'started', requestId, query, more: before !== null });
      const outcome = await client.searchMessages(query, before);
      if (outcome.ok) dispatch({ type: 'answered', requestId, results: outcome.results, nextCursor: outcome.nextCursor });
      else dispatch({ type: 'failed', requestId, error: outcome.error });
    },
    [client],
  );

  useEffect(() => {
    const query = text.trim();
    if (!searchable(query)) {
      dispatch({ type: 'cleared' });
      return;
    }
    const timer = setTimeout(() => void run(query, null), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, run]);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const query = text.trim();
    if (searchable(query) && !(query === search.query && search.status === 'loading')) void run(query, null);
  };

  const clear = () => {
    setText('');
    dispatch({ type: 'cleared' });
    inputRef.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Escape' && text !== '') {
      e.preventDefault();
      clear();
    }
  };

  const active = searchable(text.trim());
  return (
    <div className="search">
      <form role="search" className="search-form" onSubmit={onSubmit}>
        <input
          ref={inputRef}
          type="search"
          className="search-input"
          aria-label="Search messages"
          placeholder="Search messages"
          value={text}
          maxLength={400}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
      </form>
      {active && search.status !== 'idle' && (
        <SearchResults
          query={search.query}
          status={search.status}
          results={search.results}
          error={search.error}
          hasMore={search.nextCursor !== null}
          onMore={() => search.nextCursor && void run(search.query, search.nextCursor)}
          onClear={clear}
        />
      )}
    </div>
  );
}

interface ResultsProps {
  query: string;
  status: 'loading' | 'done' | 'failed';
  results: SearchResult[];
  error: string | null;
  hasMore: boolean;
  onMore: () => void;
  onClear: () => void;
}

function SearchResults({ query, status, results, error, hasMore, onMore, onClear }: ResultsProps) {
  const summary =
    status === 'failed'
      ? (error ?? 'The search failed.')
      : status === 'loading' && results.length === 0
        ? 'Searching…'
        : results.length === 0
          ? `No messages match “${query}”.`
          : `${results.length}${hasMore ? '+' : ''} ${results.length === 1 ? 'message' : 'messages'} found`;
  return (
    <div className="search-results">
      <div className="search-results-head">
        <p className={`search-summary${status === 'failed' ? ' search-error' : ''}`} role="status">
          {summary}
        </p>
        <button type="button" className="link-button" onClick={onClear}>
          Clear search
        </button>
      </div>
      <ul aria-label="Search results" className="search-list">
        {results.map((r) => (
          <SearchHit key={r.message.id} result={r} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="secondary small search-more" disabled={status === 'loading'} onClick={onMore}>
          {status === 'loading' ? 'Loading…' : 'More results'}
        </button>
      )}
    </div>
  );
}

function SearchHit({ result }: { result: SearchResult }) {
  const client = useChat();
  const meId = client.me.id;
  const summary = useChatState((s) => s.conversations[result.conversation_id]);
  const m = result.message;
  const title = summary ? conversationTitle(summary, meId) : 'Conversation';
  const sender =
    m.sender_id === meId ? 'You' : (knownUsers(summary).find((u) => u.id === m.sender_id)?.display_name ?? 'Someone');
  const shown = excerpt(m.body, result.highlights);
  const segments = highlightSegments(shown.body, shown.highlights);
  const open = () => {
    client.showMessage(m);
    openConversationRoute(result.conversation_id);
  };
  return (
    <li>
      <button type="button" className="search-hit" onClick={open}>
        <span className="search-hit-head">
          <span className="search-hit-title">{title}</span>
          <time dateTime={m.sent_at}>{formatShort(m.sent_at)}</time>
        </span>
        <span className="search-hit-body">
          <span className="search-hit-sender">{sender}: </span>
          {m.body === ''
            ? attachmentsSummary(m.attachments ?? [])
            : segments.map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
        </span>
      </button>
    </li>
  );
}
