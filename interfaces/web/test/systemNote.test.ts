import { describe, expect, it } from 'vitest';
import type { SystemChange } from '../src/api/types';
import { systemText } from '../src/components/SystemNote';

const names: Record<string, string> = { a: 'Ada', g: 'Grace', t: 'Alan' };
const nameOf = (id: string) => names[id] ?? 'Someone';
const change = (extra: Partial<SystemChange>): SystemChange => ({
  type: 'member_added',
  actor_id: 'a',
  user_ids: [],
  title: null,
  role: null,
  ...extra,
});

describe('system messages', () => {
  it('read as sentences naming the people involved', () => {
    expect(systemText(change({ user_ids: ['g', 't'] }), nameOf)).toBe('Ada added Grace and Alan');
    expect(systemText(change({ type: 'member_removed', user_ids: ['t'] }), nameOf)).toBe('Ada removed Alan');
    expect(systemText(change({ type: 'member_left', actor_id: 'g', user_ids: ['g'] }), nameOf)).toBe('Grace left');
    expect(systemText(change({ type: 'renamed', title: 'Bletchley' }), nameOf)).toBe('Ada renamed the group to “Bletchley”');
    expect(systemText(change({ type: 'role_changed', user_ids: ['g'], role: 'admin' }), nameOf)).toBe('Ada made Grace an admin');
    expect(systemText(change({ type: 'role_changed', user_ids: ['g'], role: 'owner' }), nameOf)).toBe('Grace is now the owner');
  });
});
