import { describe, expect, it } from 'vitest';
import { insertMention, mentionCandidates, mentionQuery, mentionSegments } from '../src/state/mentions';
import { member, summary, user } from './fixtures';

const names = new Set(['alice', 'bob', 'bob.smith']);

function marked(body: string, mentionsMe = true, group = false): string {
  return mentionSegments(body, names, 'alice', mentionsMe, group)
    .map((s) => (s.mention === 'me' ? `[${s.text}]` : s.mention === 'other' ? `<${s.text}>` : s.text))
    .join('');
}

describe('mention spans', () => {
  it('marks mentions of members and highlights the user’s own', () => {
    expect(marked('hi @Alice and @bob!')).toBe('hi [@Alice] and <@bob>!');
    expect(marked('(@alice) @bob.smith, @bob.')).toBe('([@alice]) <@bob.smith>, <@bob>.');
  });

  it('needs the @ at the start or after whitespace or punctuation, and a member', () => {
    expect(marked('mail alice@bob.org or @nobody')).toBe('mail alice@bob.org or @nobody');
    expect(marked('@alice')).toBe('[@alice]');
  });

  it('highlights only where the server counted the user as mentioned', () => {
    expect(marked('@alice', false)).toBe('<@alice>');
    expect(marked('hey @all', true, true)).toBe('hey [@all]');
    expect(marked('hey @all', true, false)).toBe('hey @all');
  });

  it('keeps the text exactly as written', () => {
    const body = 'a @bob b @alice\nc';
    expect(mentionSegments(body, names, 'alice', true, false).map((s) => s.text).join('')).toBe(body);
  });
});

describe('the @ autocomplete', () => {
  it('finds the name being typed before the caret', () => {
    expect(mentionQuery('hello @gr', 9)).toEqual({ start: 6, query: 'gr' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail me@gr', 10)).toBeNull();
    expect(mentionQuery('hello @grace now', 16)).toBeNull();
  });

  it('offers members other than the user by username or name, and @all in a group', () => {
    const me = user('alice');
    const grace = { ...user('grace'), display_name: 'Grace Hopper' };
    const gordon = { ...user('gordon'), display_name: 'Gordon' };
    const hopper = { ...user('hop'), display_name: 'Someone Else' };
    const direct = summary([member(me), member(grace)]);
    expect(mentionCandidates(direct, me.id, 'G')).toEqual([{ username: 'grace', label: 'Grace Hopper' }]);
    expect(mentionCandidates(direct, me.id, 'al')).toEqual([]);
    const group = summary([member(me), member(grace), member(gordon), member(hopper)]);
    expect(mentionCandidates(group, me.id, 'ho').map((c) => c.username)).toEqual(['hop', 'grace']);
    expect(mentionCandidates(group, me.id, '').map((c) => c.username)).toEqual(['grace', 'gordon', 'hop', 'all']);
  });

  it('inserts the chosen username and a space, with the caret after them', () => {
    expect(insertMention('hi @gr', { start: 3, query: 'gr' }, 'grace')).toEqual({ text: 'hi @grace ', caret: 10 });
    expect(insertMention('hi @gr there', { start: 3, query: 'gr' }, 'grace')).toEqual({ text: 'hi @grace there', caret: 10 });
  });
});
