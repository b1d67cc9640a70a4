import { describe, expect, it } from 'vitest';
import type { SearchResult } from '../src/api/types';
import { excerpt, highlightSegments, initialSearch, searchable, searchReducer } from '../src/state/search';
import { message, user } from './fixtures';

const bob = user('bob');

function result(seq: number, body: string, highlights: [number, number][] = []): SearchResult {
  return { message: message('c1', seq, bob, { body }), conversation_id: 'c1', highlights };
}

describe('highlighted matches', () => {
  it('splits the body at the spans', () => {
    expect(highlightSegments('Lunch at noon, noon works', [[9, 13], [15, 19]])).toEqual([
      { text: 'Lunch at ', match: false },
      { text: 'noon', match: true },
      { text: ', ', match: false },
      { text: 'noon', match: true },
      { text: ' works', match: false },
    ]);
  });

  it('counts offsets in code points, as the server does (emoji and accents)', () => {
    // 😀 is one code point but two UTF-16 units
    expect(highlightSegments('😀 café au lait', [[2, 6]])).toEqual([
      { text: '😀 ', match: false },
      { text: 'café', match: true },
      { text: ' au lait', match: false },
    ]);
  });

  it('merges overlapping spans, sorts them and ignores what lies outside the body', () => {
    expect(highlightSegments('abcdef', [[3, 5], [0, 2], [1, 3], [4, 99], [10, 12], [2, 2]])).toEqual([
      { text: 'abcdef', match: true },
    ]);
    expect(highlightSegments('plain', [])).toEqual([{ text: 'plain', match: false }]);
    expect(highlightSegments('', [])).toEqual([{ text: '', match: false }]);
  });

  it('cuts a long body around its first match and moves the spans with it', () => {
    const body = `${'x'.repeat(300)} needle ${'y'.repeat(300)}`;
    const cut = excerpt(body, [[301, 307]], 100, 20);
    expect(cut.body.startsWith('…')).toBe(true);
    expect(cut.body.endsWith('…')).toBe(true);
    const segments = highlightSegments(cut.body, cut.highlights);
    expect(segments.filter((s) => s.match).map((s) => s.text)).toEqual(['needle']);
    expect(excerpt('short', [[0, 5]])).toEqual({ body: 'short', highlights: [[0, 5]] });
  });
});

describe('search state', () => {
  it('sends only queries with a word, up to 200 code points', () => {
    expect(searchable('noon')).toBe(true);
    expect(searchable('  ')).toBe(false);
    expect(searchable('?!')).toBe(false);
    expect(searchable('é')).toBe(true);
    expect(searchable('a'.repeat(200))).toBe(true);
    expect(searchable('a'.repeat(201))).toBe(false);
  });

  it('shows the answer to the latest query only', () => {
    let s = searchReducer(initialSearch, { type: 'started', requestId: 1, query: 'no', more: false });
    s = searchReducer(s, { type: 'started', requestId: 2, query: 'noon', more: false });
    const late = searchReducer(s, { type: 'answered', requestId: 1, results: [result(1, 'no')], nextCursor: null });
    expect(late).toBe(s);
    s = searchReducer(s, { type: 'answered', requestId: 2, results: [result(2, 'noon')], nextCursor: 'c2' });
    expect(s).toMatchObject({ query: 'noon', status: 'done', nextCursor: 'c2' });
    expect(s.results.map((r) => r.message.seq)).toEqual([2]);
  });

  it('adds a next page below, without repeating a result', () => {
    let s = searchReducer(initialSearch, { type: 'started', requestId: 1, query: 'noon', more: false });
    s = searchReducer(s, { type: 'answered', requestId: 1, results: [result(9, 'noon'), result(8, 'noon')], nextCursor: 'c' });
    s = searchReducer(s, { type: 'started', requestId: 2, query: 'noon', more: true });
    expect(s.results).toHaveLength(2); // kept while the page loads
    s = searchReducer(s, { type: 'answered', requestId: 2, results: [result(8, 'noon'), result(7, 'noon')], nextCursor: null });
    expect(s.results.map((r) => r.message.seq)).toEqual([9, 8, 7]);
    expect(s.nextCursor).toBeNull();
  });

  it('reports a refusal, and drops answers that arrive after clearing', () => {
    let s = searchReducer(initialSearch, { type: 'started', requestId: 1, query: 'x', more: false });
    s = searchReducer(s, { type: 'failed', requestId: 1, error: 'Not a member.' });
    expect(s).toMatchObject({ status: 'failed', error: 'Not a member.' });
    s = searchReducer(s, { type: 'started', requestId: 2, query: 'y', more: false });
    s = searchReducer(s, { type: 'cleared' });
    const after = searchReducer(s, { type: 'answered', requestId: 2, results: [result(1, 'y')], nextCursor: null });
    expect(after).toMatchObject({ status: 'idle', results: [] });
  });
});
