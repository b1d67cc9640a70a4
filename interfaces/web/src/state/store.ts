import { useSyncExternalStore } from 'react';
import type { User } from '../api/types';
import { initialState, reducer } from './reducer';
import type { ChatAction, ChatState } from './types';

/** A typist is forgotten this long after their last typing event (the server's own limit). */
export const TYPING_TTL_MS = 6000;

export interface ChatStore {
  getState(): ChatState;
  dispatch(action: ChatAction): void;
  /** A plain function (no `this`), so that it can be handed to useSyncExternalStore as is. */
  subscribe: (listener: () => void) => () => void;
}

/**
 * A tiny store around the pure reducer. It also owns the typing timers: every `typing` action with
 * `isTyping` (re)arms a timer that clears that typist after TYPING_TTL_MS.
 */
export function createChatStore(me: User | null = null): ChatStore {
  let state = initialState(me);
  const listeners = new Set<() => void>();
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const clearTypingTimer = (key: string) => {
    const timer = typingTimers.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      typingTimers.delete(key);
    }
  };

  const dispatch = (action: ChatAction) => {
    if (action.type === 'typing') {
      const key = `${action.conversationId}:${action.userId}`;
      clearTypingTimer(key);
      if (action.isTyping) {
        typingTimers.set(
          key,
          setTimeout(() => {
            typingTimers.delete(key);
            dispatch({ ...action, isTyping: false });
          }, TYPING_TTL_MS),
        );
      }
    } else if (action.type === 'reset') {
      for (const key of [...typingTimers.keys()]) clearTypingTimer(key);
    }
    const next = reducer(state, action);
    if (next === state) return;
    state = next;
    for (const listener of [...listeners]) listener();
  };

  return {
    getState: () => state,
    dispatch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Reads a slice of the store; `select` must return a stable reference for unchanged state. */
export function useStoreSelector<T>(store: ChatStore, select: (state: ChatState) => T): T {
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getState()),
  );
}
