import { describe, expect, it } from 'vitest';
import { handleOf } from '../src/util/handle';
import { user } from './fixtures';

describe('handleOf', () => {
  it('is @username, and empty for an erased user (username null), never "@null" or a bare "@"', () => {
    expect(handleOf(user('alice'))).toBe('@alice');
    const erased = { ...user('gone'), username: null, display_name: 'Deleted user', deleted: true };
    expect(handleOf(erased)).toBe('');
  });
});
