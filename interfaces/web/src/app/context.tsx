import { createContext, useContext } from 'react';
import type { ChatClient } from './chatClient';
import { useStoreSelector } from '../state/store';
import type { ChatState } from '../state/types';

export const ChatContext = createContext<ChatClient | null>(null);

export function useChat(): ChatClient {
  const client = useContext(ChatContext);
  if (!client) throw new Error('useChat outside ChatContext');
  return client;
}

/** Subscribes to a slice of the chat state; return stable references from `select`. */
export function useChatState<T>(select: (state: ChatState) => T): T {
  const client = useChat();
  return useStoreSelector(client.store, select);
}
