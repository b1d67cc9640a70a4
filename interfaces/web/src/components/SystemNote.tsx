import type { SystemChange } from '../api/types';
import type { TimelineItem } from '../state/selectors';

function names(ids: string[], nameOf: (id: string) => string): string {
  const all = ids.map(nameOf);
  if (all.length <= 1) return all.join('');
  return `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]}`;
}

/** A system message (a membership, title or role change) as a sentence. */
export function systemText(change: SystemChange, nameOf: (id: string) => string): string {
  const actor = nameOf(change.actor_id);
  const users = names(change.user_ids, nameOf);
  switch (change.type) {
    case 'member_added':
      return `${actor} added ${users}`;
    case 'member_removed':
      return `${actor} removed ${users}`;
    case 'member_left':
      return `${users || actor} left`;
    case 'renamed':
      return `${actor} renamed the group to “${change.title ?? ''}”`;
    case 'role_changed':
      return change.role === 'owner'
        ? `${users} is now the owner`
        : `${actor} made ${users} ${change.role === 'admin' ? 'an admin' : 'a member'}`;
  }
}

/** A system message in the log: a line of text, centred. */
export function SystemNote({ item, nameOf }: { item: TimelineItem; nameOf: (id: string) => string }) {
  return (
    <li className="msg-system" data-seq={item.seq ?? undefined} data-message-id={item.id ?? undefined}>
      <p>{item.system ? systemText(item.system, nameOf) : item.body}</p>
    </li>
  );
}
