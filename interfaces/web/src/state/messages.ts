import type { Message } from '../api/types';

/**
 * Merges `incoming` into `items` (ascending seq, unique seq and id) and returns a new sorted array.
 * A later copy of the same message (same id or same seq) replaces the earlier one.
 */
export function mergeMessages(items: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return items as Message[];
  const bySeq = new Map<number, Message>();
  for (const m of items) bySeq.set(m.seq, m);
  for (const m of incoming) {
    for (const [seq, existing] of bySeq) {
      if (existing.id === m.id && seq !== m.seq) bySeq.delete(seq);
    }
    bySeq.set(m.seq, m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * The highest seq up to which `items` hold every message without a gap, counting from the oldest
 * loaded one. Catch-up asks for messages after this seq, so a gap left by a race is filled too.
 */
export function lastContiguousSeq(items: readonly Message[]): number {
  if (items.length === 0) return 0;
  let last = items[0].seq;
  for (let i = 1; i < items.length; i += 1) {
    if (items[i].seq !== last + 1) break;
    last = items[i].seq;
  }
  return last;
}

export function maxSeq(items: readonly Message[]): number {
  return items.length === 0 ? 0 : items[items.length - 1].seq;
}
