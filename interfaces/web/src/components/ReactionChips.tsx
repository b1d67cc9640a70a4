import type { Reaction } from '../api/types';

interface Props {
  reactions: Reaction[];
  meId: string;
  nameOf: (userId: string) => string;
  onToggle: (emoji: string) => void;
  /** Shown, not toggled (a conversation the user left). */
  readOnly?: boolean;
}

/** One button per emoji, named `<emoji> <count>`, pressed when the user reacted; a click toggles. */
export function ReactionChips({ reactions, meId, nameOf, onToggle, readOnly = false }: Props) {
  if (reactions.length === 0) return null;
  return (
    <div className="reactions">
      {reactions.map((r) => {
        const mine = r.user_ids.includes(meId);
        const who = r.user_ids.map((id) => (id === meId ? 'You' : nameOf(id))).join(', ');
        return (
          <button
            key={r.emoji}
            type="button"
            className={`reaction${mine ? ' reaction-mine' : ''}`}
            aria-pressed={mine}
            title={who}
            disabled={readOnly}
            onClick={() => onToggle(r.emoji)}
          >
            {`${r.emoji} ${r.user_ids.length}`}
          </button>
        );
      })}
    </div>
  );
}
