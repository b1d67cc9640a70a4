/** Local time of day, e.g. "14:05" (locale format). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Time today, else a short date: for the conversation list. */
export function formatShort(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (d.toDateString() === now.toDateString()) return formatTime(iso);
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** Full local date and time, for tooltips. */
export function formatFull(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}
