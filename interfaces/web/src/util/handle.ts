import type { User } from '../api/types';

/** "@username", or "" for an erased user (the contract sends `username: null` for them). */
export function handleOf(user: User): string {
  return user.username === null ? '' : `@${user.username}`;
}
