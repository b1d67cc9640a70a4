// Search (contract section 10): what the user typed, the answers pages and their order, and the
// matched spans to highlight. Pure functions; the search panel keeps a SearchState with searchReducer.
import type { SearchResult } from '../api/types';

/** The longest query the server takes, in code points. */
export const MAX_QUERY_CODE_POINTS = 200;
/** Results asked for per page. */
export const SEARCH_PAGE = 20;

/** Whether `query` is worth sending: it has a word and is not too long (else `validation_error`). */
export function searchable(query: string): boolean {
  const q = query.trim();
  return /[\p{L}\p{N}]/u.test(q) && [...q].length <= MAX_QUERY_CODE_POINTS;
}

export interface HighlightSegment {
  text: string;
  match: boolean;
}

/**
 * Splits `body` at the `highlights` (`[start, end)` code-point offsets, as the server sends them)
 * into plain and matched text. Spans are clamped to the body; overlapping or touching ones merge.
 */
export function highlightSegments(body: string, highlights: readonly (readonly [number, number])[]): HighlightSegment[] {
  const points = Array.from(body);
  const spans = highlights
    .map(([s, e]) => [Math.max(0, Math.min(s, points.length)), Math.max(0, Math.min(e, points.length))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [s, e] of spans) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const segments: HighlightSegment[] = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) segments.push({ text: points.slice(at, s).join(''), match: false });
    segments.push({ text: points.slice(s, e).join(''), match: true });
    at = e;
  }
  if (at < points.length || segments.length === 0) segments.push({ text: points.slice(at).join(''), match: false });
  return segments;
}

/**
 * A long body cut to about `length` code points around its first match, with `…` where text was
 * left out; the highlights moved to match. Short bodies come back as they are.
 */
export function excerpt(
  body: string,
  highlights: readonly (readonly [number, number])[],
  length = 160,
  before = 40,
): { body: string; highlights: [number, number][] } {
  const points = Array.from(body);
  const spans = highlights.map(([s, e]) => [s, e] as [number, number]);
  if (points.length <= length) return { body, highlights: spans };
  const first = spans.length > 0 ? Math.min(...spans.map(([s]) => s)) : 0;
  const start = Math.max(0, Math.min(first - before, points.length - length));
  const end = Math.min(points.length, start + length);
  const lead = start > 0 ? '…' : '';
  const tail = end < points.length ? '…' : '';
  const shift = lead ? 1 - start : -start;
  return {
    body: lead + points.slice(start, end).join('') + tail,
    highlights: spans
      .filter(([s, e]) => e > start && s < end)
      .map(([s, e]) => [Math.max(s, start) + shift, Math.min(e, end) + shift] as [number, number]),
  };
}

export interface SearchState {
  /** The query of the results shown (or being fetched). */
  query: string;
  status: 'idle' | 'loading' | 'done' | 'failed';
  results: SearchResult[];
  nextCursor: string | null;
  error: string | null;
  /** The request whose answer is awaited; answers to any other are stale and dropped. */
  requestId: number;
  /** The awaited request asks for the next page (its results are added below). */
  more: boolean;
}

export const initialSearch: SearchState = {
  query: '',
  status: 'idle',
  results: [],
  nextCursor: null,
  error: null,
  requestId: 0,
  more: false,
};

export type SearchAction =
  | { type: 'started'; requestId: number; query: string; more: boolean }
  | { type: 'answered'; requestId: number; results: SearchResult[]; nextCursor: string | null }
  | { type: 'failed'; requestId: number; error: string }
  | { type: 'cleared' };

export function searchReducer(state: SearchState, action: SearchAction): SearchState {
  switch (action.type) {
    case 'started':
      return action.more
        ? { ...state, status: 'loading', error: null, requestId: action.requestId, more: true }
        : { ...initialSearch, query: action.query, status: 'loading', requestId: action.requestId };
    case 'answered': {
      if (action.requestId !== state.requestId || state.status !== 'loading') return state;
      const results = state.more ? appendResults(state.results, action.results) : action.results;
      return { ...state, status: 'done', results, nextCursor: action.nextCursor, error: null, more: false };
    }
    case 'failed':
      if (action.requestId !== state.requestId || state.status !== 'loading') return state;
      return { ...state, status: 'failed', error: action.error, more: false };
    case 'cleared':
      return { ...initialSearch, requestId: state.requestId };
  }
}

/** A next page below the results shown, without repeating any (a message sent meanwhile shifts pages). */
function appendResults(shown: readonly SearchResult[], page: readonly SearchResult[]): SearchResult[] {
  const seen = new Set(shown.map((r) => r.message.id));
  return [...shown, ...page.filter((r) => !seen.has(r.message.id))];
}
