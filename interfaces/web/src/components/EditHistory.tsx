import { useEffect, useId, useRef, useState } from 'react';
import type { MessageVersion } from '../api/contract.gen';
import { formatFull } from '../util/time';

interface Props {
  load: () => Promise<MessageVersion[]>;
}

type Loaded = { kind: 'loading' } | { kind: 'done'; versions: MessageVersion[] } | { kind: 'error'; message: string };

/**
 * The `edited` mark of a message: a button that shows every version of its text (`get_message_edits`),
 * the original first, in a small dialog; Escape or a click elsewhere closes it.
 */
export function EditHistory({ load }: Props) {
  const [open, setOpen] = useState(false);
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  const rootRef = useRef<HTMLSpanElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const titleId = useId();

  useEffect(() => {
    if (open) dialogRef.current?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (rootRef.current && !rootRef.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const toggle = () => {
    if (open) {
      setOpen(false);
      return;
    }
    setOpen(true);
    setLoaded({ kind: 'loading' });
    load().then(
      (versions) => setLoaded({ kind: 'done', versions }),
      (err: unknown) => setLoaded({ kind: 'error', message: err instanceof Error ? err.message : 'Could not load the edits.' }),
    );
  };

  return (
    <span className="edit-history" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="msg-edited"
        aria-haspopup="dialog"
        aria-expanded={open}
        title="Show earlier versions"
        onClick={toggle}
      >
        edited
      </button>
      {open && (
        <div
          className="popover history"
          role="dialog"
          aria-labelledby={titleId}
          tabIndex={-1}
          ref={dialogRef}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setOpen(false);
              buttonRef.current?.focus();
            }
          }}
        >
          <h3 id={titleId}>Edit history</h3>
          {loaded.kind === 'loading' && <p className="history-note">Loading…</p>}
          {loaded.kind === 'error' && <p className="history-note">{loaded.message}</p>}
          {loaded.kind === 'done' && (
            <ol>
              {loaded.versions.map((v, i) => (
                <li key={`${v.at}-${i}`}>
                  <span className="history-label">
                    {i === 0 ? 'Original' : i === loaded.versions.length - 1 ? 'Now' : `Edit ${i}`},{' '}
                    <time dateTime={v.at}>{formatFull(v.at)}</time>
                  </span>
                  <span className="history-body">{v.body}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </span>
  );
}
