import { useEffect, useRef, type KeyboardEvent } from 'react';

/** The emojis offered for a reaction: fully-qualified ones of Unicode's emoji-test.txt. */
export const REACTION_EMOJIS: readonly { emoji: string; name: string }[] = [
  { emoji: '\u{1F44D}', name: 'Thumbs up' },
  { emoji: '\u2764\uFE0F', name: 'Red heart' },
  { emoji: '\u{1F602}', name: 'Face with tears of joy' },
  { emoji: '\u{1F62E}', name: 'Face with open mouth' },
  { emoji: '\u{1F622}', name: 'Crying face' },
  { emoji: '\u{1F389}', name: 'Party popper' },
  { emoji: '\u{1F64F}', name: 'Folded hands' },
  { emoji: '\u{1F440}', name: 'Eyes' },
];

interface Props {
  /** The emojis the user already reacted with (shown pressed; picking one takes it back). */
  chosen: ReadonlySet<string>;
  onPick: (emoji: string) => void;
  onClose: () => void;
}

/** A small dialog of emoji buttons (each named by its emoji); arrows move, Escape closes. */
export function EmojiPicker({ chosen, onPick, onClose }: Props) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    ref.current?.querySelector('button')?.focus();
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(ref.current?.querySelectorAll('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const move = (delta: number) => {
      e.preventDefault();
      buttons[(at + delta + buttons.length) % buttons.length]?.focus();
    };
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') move(1);
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') move(-1);
    else if (e.key === 'Home') move(-at);
    else if (e.key === 'End') move(buttons.length - 1 - at);
  };

  return (
    <div className="emoji-picker popover" role="dialog" aria-label="Pick a reaction" ref={ref} onKeyDown={onKeyDown}>
      {REACTION_EMOJIS.map(({ emoji, name }) => (
        <button
          key={emoji}
          type="button"
          className="emoji"
          title={name}
          aria-pressed={chosen.has(emoji)}
          onClick={() => onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
