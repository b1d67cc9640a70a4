import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useChat } from '../app/context';

/** Unsent text per conversation, kept while switching between conversations. */
const drafts = new Map<string, string>();

/** The message field: Enter sends, Shift+Enter makes a new line. */
export function Composer({ conversationId }: { conversationId: string }) {
  const client = useChat();
  const [text, setText] = useState(() => drafts.get(conversationId) ?? '');
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (window.matchMedia?.('(pointer: fine)').matches) inputRef.current?.focus();
  }, []);

  const update = (value: string) => {
    setText(value);
    drafts.set(conversationId, value);
    client.typing(conversationId, value);
  };

  const send = () => {
    if (text.trim() === '') return;
    void client.sendMessage(conversationId, text);
    setText('');
    drafts.delete(conversationId);
    inputRef.current?.focus();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor="composer-input" className="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={inputRef}
        rows={1}
        value={text}
        placeholder="Write a message"
        onChange={(e) => update(e.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => client.stopTyping(conversationId)}
      />
      <button type="submit" className="send-button" disabled={text.trim() === ''}>
        Send
      </button>
    </form>
  );
}
