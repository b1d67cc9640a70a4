import {
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import type { ConversationSummary, Quote } from '../api/types';
import { useChat, useChatState } from '../app/context';
import { insertMention, mentionCandidates, mentionQuery } from '../state/mentions';
import { canSend, MAX_ATTACHMENTS } from '../state/uploads';
import { pastedFiles, pickedFiles } from '../util/files';
import { UploadTray } from './UploadTray';

/** Unsent text per conversation, kept while switching between conversations. */
const drafts = new Map<string, string>();

/** What the message field is for besides a new message: answering one, or changing one's text. */
export type ComposerMode =
  | { kind: 'reply'; quote: Quote; authorName: string }
  | { kind: 'edit'; messageId: string; body: string }
  | null;

interface Props {
  conversationId: string;
  summary: ConversationSummary | undefined;
  mode: ComposerMode;
  /** The reply was sent, the edit saved, or either cancelled. */
  onModeDone: () => void;
  /** Up arrow in the empty field: edit the user's last message. */
  onEditLast?: () => void;
}

/**
 * The message field: Enter sends, Shift+Enter makes a new line, Escape cancels a reply or an edit.
 * Typing `@` offers the conversation's members (arrows choose, Enter or Tab inserts); the up arrow in
 * the empty field edits the user's last message. Give it a new
 * `key` when an edit starts or ends: the field then holds the message's text, or the draft again.
 */
export function Composer({ conversationId, summary, mode, onModeDone, onEditLast }: Props) {
  const client = useChat();
  const editing = mode?.kind === 'edit' ? mode : null;
  const [text, setText] = useState(() => (editing ? editing.body : (drafts.get(conversationId) ?? '')));
  const [caret, setCaret] = useState(() => text.length);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const uploads = useChatState((s) => s.uploads[conversationId]);
  const nextCaret = useRef<number | null>(null);
  const listId = useId();

  useEffect(() => {
    const input = inputRef.current;
    if (!input) return;
    if (editing) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    } else if (window.matchMedia?.('(pointer: fine)').matches) input.focus();
    // on mount only: a new key starts an edit
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (mode?.kind === 'reply') inputRef.current?.focus();
  }, [mode]);

  useLayoutEffect(() => {
    if (nextCaret.current === null || !inputRef.current) return;
    inputRef.current.setSelectionRange(nextCaret.current, nextCaret.current);
    nextCaret.current = null;
  });

  const query = mentionQuery(text, caret);
  const candidates = useMemo(
    () => (query && query.start !== dismissedAt ? mentionCandidates(summary, client.me.id, query.query) : []),
    [query?.start, query?.query, dismissedAt, summary, client.me.id], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const open = candidates.length > 0;
  const activeIndex = Math.min(active, candidates.length - 1);

  const update = (value: string, at: number) => {
    setText(value);
    setCaret(at);
    setActive(0);
    if (editing) return;
    drafts.set(conversationId, value);
    client.typing(conversationId, value);
  };

  const pick = (index: number) => {
    if (!query || !candidates[index]) return;
    const next = insertMention(text, query, candidates[index].username);
    nextCaret.current = next.caret;
    update(next.text, next.caret);
  };

  const sendable = editing ? text.trim() !== '' : canSend(text, uploads);

  const send = () => {
    if (!sendable) return;
    if (editing) {
      void client.editMessage(conversationId, editing.messageId, text);
      onModeDone();
      return;
    }
    void client.sendMessage(conversationId, text, mode?.kind === 'reply' ? mode.quote : null);
    if (mode) onModeDone();
    setText('');
    setCaret(0);
    drafts.delete(conversationId);
    inputRef.current?.focus();
  };

  /** A pasted image (a screenshot) is attached; pasted text goes in the field as usual. */
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    if (editing) return;
    const files = pastedFiles(e.clipboardData);
    if (files.length === 0) return;
    e.preventDefault();
    void client.attachFiles(conversationId, files);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return;
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const delta = e.key === 'ArrowDown' ? 1 : -1;
        setActive((activeIndex + delta + candidates.length) % candidates.length);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        pick(activeIndex);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissedAt(query?.start ?? null);
        return;
      }
    }
    if (e.key === 'ArrowUp' && text === '' && !mode && onEditLast) {
      e.preventDefault();
      onEditLast();
      return;
    }
    if (e.key === 'Escape' && mode) {
      e.preventDefault();
      onModeDone();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  };

  const optionId = (i: number) => `${listId}-${i}`;

  return (
    <form className={`composer${mode ? ` composer-${mode.kind}` : ''}`} onSubmit={onSubmit}>
      {mode && (
        <div className="composer-mode">
          <span className="composer-mode-text">
            {mode.kind === 'edit' ? (
              <strong>Editing message</strong>
            ) : (
              <>
                <strong>Replying to {mode.authorName}</strong>
                <span className="composer-mode-quote">{mode.quote.body}</span>
              </>
            )}
          </span>
          <button type="button" className="link-button" onClick={onModeDone}>
            {mode.kind === 'edit' ? 'Cancel edit' : 'Cancel reply'}
          </button>
        </div>
      )}
      {open && (
        <ul className="mention-list" role="listbox" id={listId} aria-label="Mention someone">
          {candidates.map((c, i) => (
            <li
              key={c.username}
              id={optionId(i)}
              role="option"
              aria-selected={i === activeIndex}
              className={`mention-option${i === activeIndex ? ' active' : ''}`}
              // keep the focus in the field
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(i)}
            >
              <span className="mention-handle">@{c.username}</span> <small>{c.label}</small>
            </li>
          ))}
        </ul>
      )}
      {!editing && uploads && (
        <UploadTray uploads={uploads} onRemove={(localId) => client.removeUpload(conversationId, localId)} />
      )}
      <div className="composer-row">
        {!editing && (
          <>
            <input
              ref={fileRef}
              type="file"
              multiple
              hidden
              tabIndex={-1}
              onChange={(e) => {
                const files = pickedFiles(e.currentTarget.files);
                e.currentTarget.value = '';
                if (files.length > 0) void client.attachFiles(conversationId, files);
              }}
            />
            <button
              type="button"
              className="attach-button"
              title={`Attach file (up to ${MAX_ATTACHMENTS} per message)`}
              aria-label="Attach file"
              onClick={() => fileRef.current?.click()}
            >
              <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path
                  d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth="1.8"
                  strokeLinecap="round"
                />
              </svg>
            </button>
          </>
        )}
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={inputRef}
          rows={1}
          value={text}
          placeholder={editing ? 'Edit your message' : 'Write a message'}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? optionId(activeIndex) : undefined}
          onChange={(e) => update(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => client.stopTyping(conversationId)}
        />
        <button type="submit" className="send-button" disabled={!sendable}>
          Send
        </button>
      </div>
    </form>
  );
}
