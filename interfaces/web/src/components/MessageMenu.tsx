import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { EmojiPicker } from './EmojiPicker';

export interface MessageMenuProps {
  canEdit: boolean;
  canDelete: boolean;
  /** The emojis the user already reacted with. */
  chosen: ReadonlySet<string>;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onReact: (emoji: string) => void;
}

type Open = null | 'menu' | 'picker';

/**
 * The `More actions` button of a message and its menu (`Reply`, `Edit`, `Delete`, `React`): arrow
 * keys move, Escape or a click elsewhere closes it and gives the focus back to the button. `React`
 * opens a small emoji picker in its place.
 */
export function MessageMenu({ canEdit, canDelete, chosen, onReply, onEdit, onDelete, onReact }: MessageMenuProps) {
  const [open, setOpen] = useState<Open>(null);
  const [upward, setUpward] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  const close = (refocus: boolean) => {
    setOpen(null);
    if (refocus) buttonRef.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent | TouchEvent) => {
      if (rootRef.current && !rootRef.current.contains(e.target as Node)) setOpen(null);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('touchstart', onDown);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('touchstart', onDown);
    };
  }, [open]);

  useEffect(() => {
    if (open === 'menu') menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  const toggle = () => {
    if (open) {
      setOpen(null);
      return;
    }
    // open upwards when the menu would not fit below the button inside the message log
    const button = buttonRef.current;
    const log = button?.closest('[role="log"]');
    if (button && log) {
      const below = log.getBoundingClientRect().bottom - button.getBoundingClientRect().bottom;
      setUpward(below < 190);
    }
    setOpen('menu');
  };

  const run = (action: () => void) => {
    close(true);
    action();
  };

  const onMenuKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const focus = (i: number) => {
      e.preventDefault();
      items[(i + items.length) % items.length]?.focus();
    };
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === 'ArrowDown') focus(at + 1);
    else if (e.key === 'ArrowUp') focus(at - 1);
    else if (e.key === 'Home') focus(0);
    else if (e.key === 'End') focus(items.length - 1);
    else if (e.key === 'Tab') setOpen(null);
  };

  return (
    <div className={`msg-actions${open ? ' open' : ''}${upward ? ' upward' : ''}`} ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="icon-button more-button"
        aria-label="More actions"
        title="More actions"
        aria-haspopup="menu"
        aria-expanded={open === 'menu'}
        aria-controls={open === 'menu' ? menuId : undefined}
        onClick={toggle}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open === 'menu' && (
        <div className="menu popover" role="menu" id={menuId} aria-label="More actions" ref={menuRef} onKeyDown={onMenuKeyDown}>
          <button type="button" role="menuitem" tabIndex={-1} onClick={() => run(onReply)}>
            Reply
          </button>
          {canEdit && (
            <button type="button" role="menuitem" tabIndex={-1} onClick={() => run(onEdit)}>
              Edit
            </button>
          )}
          {canDelete && (
            <button type="button" role="menuitem" tabIndex={-1} className="danger" onClick={() => run(onDelete)}>
              Delete
            </button>
          )}
          <button type="button" role="menuitem" tabIndex={-1} onClick={() => setOpen('picker')}>
            React
          </button>
        </div>
      )}
      {open === 'picker' && (
        <EmojiPicker
          chosen={chosen}
          onPick={(emoji) => {
            close(true);
            onReact(emoji);
          }}
          onClose={() => close(true)}
        />
      )}
    </div>
  );
}
