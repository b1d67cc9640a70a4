// Attachments (contract section 9): the files the user has picked, dropped or pasted for their next
// message, each uploaded at once (`POST /api/uploads`) with its progress shown, and what a sent
// message shows of its attachments. Pure functions, used by the reducer, the client and the components.
import type { Attachment } from '../api/types';

/** A message carries at most this many attachments (contract section 9). */
export const MAX_ATTACHMENTS = 10;

/** The image types the server makes thumbnails of and serves inline (all others are downloads). */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A file on its way to the server for the next message of a conversation. */
export interface DraftUpload {
  /** The client's own id for it (the server's id is `attachment.id` once uploaded). */
  localId: string;
  filename: string;
  size: number;
  /** Bytes sent so far (of `size`). */
  loaded: number;
  state: 'uploading' | 'done' | 'failed';
  /** The server's Attachment once uploaded. */
  attachment: Attachment | null;
  error: string | null;
}

export function draftUpload(localId: string, filename: string, size: number): DraftUpload {
  return { localId, filename, size, loaded: 0, state: 'uploading', attachment: null, error: null };
}

/** How much of it has been sent, 0-100 (100 once the server has it). */
export function uploadPercent(u: DraftUpload): number {
  if (u.state === 'done') return 100;
  if (u.size <= 0) return 0;
  // the last bytes sent are not the upload done: the server still has to store it
  return Math.min(99, Math.floor((u.loaded / u.size) * 100));
}

/** Adds uploads after the existing ones, up to MAX_ATTACHMENTS in all; returns the list and those left out. */
export function addUploads(
  list: readonly DraftUpload[],
  added: readonly DraftUpload[],
): { list: DraftUpload[]; refused: DraftUpload[] } {
  const room = Math.max(0, MAX_ATTACHMENTS - list.length);
  return { list: [...list, ...added.slice(0, room)], refused: added.slice(room) };
}

/** The upload `localId` changed by `change` (the same list when it is not there). */
export function changeUpload(
  list: readonly DraftUpload[],
  localId: string,
  change: (u: DraftUpload) => DraftUpload,
): DraftUpload[] {
  const index = list.findIndex((u) => u.localId === localId);
  if (index < 0) return list as DraftUpload[];
  const next = list.slice();
  next[index] = change(list[index]);
  return next;
}

/** Progress only moves forward, and only while uploading. */
export function withProgress(u: DraftUpload, loaded: number): DraftUpload {
  if (u.state !== 'uploading' || loaded <= u.loaded) return u;
  return { ...u, loaded: Math.min(loaded, u.size) };
}

export function uploaded(u: DraftUpload, attachment: Attachment): DraftUpload {
  return { ...u, state: 'done', loaded: u.size, attachment, error: null };
}

export function uploadFailed(u: DraftUpload, error: string): DraftUpload {
  return u.state === 'done' ? u : { ...u, state: 'failed', error };
}

/** The uploaded attachments, in the order the files were added: what the next message carries. */
export function readyAttachments(list: readonly DraftUpload[] | undefined): Attachment[] {
  return (list ?? []).flatMap((u) => (u.state === 'done' && u.attachment ? [u.attachment] : []));
}

export function uploadsBusy(list: readonly DraftUpload[] | undefined): boolean {
  return (list ?? []).some((u) => u.state === 'uploading');
}

/** A message can go when it has text or an uploaded file, and no file is still on its way. */
export function canSend(text: string, list: readonly DraftUpload[] | undefined): boolean {
  if (uploadsBusy(list)) return false;
  return text.trim() !== '' || readyAttachments(list).length > 0;
}

/** Shown inline (with a thumbnail) rather than as a file to download. */
export function isInlineImage(a: Attachment): boolean {
  return INLINE_IMAGE_TYPES.has(a.content_type);
}

/** `1.5 MB`, `320 KB`, `12 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit]}`;
}

/** The size an image is shown at inline: its own, scaled down to fit `box` px on its longest side. */
export function fitWithin(width: number | null, height: number | null, box: number): { width: number; height: number } | null {
  if (!width || !height || width <= 0 || height <= 0) return null;
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** What the conversation list says of a message without text: its files. */
export function attachmentsSummary(attachments: readonly Attachment[]): string {
  if (attachments.length === 0) return '';
  if (attachments.length === 1) return attachments[0].filename;
  const images = attachments.filter(isInlineImage).length;
  if (images === attachments.length) return `${images} photos`;
  return `${attachments.length} files`;
}

/**
 * A name for a pasted file: its own when it has a real one, else `pasted-image-<time>.<ext>` (a
 * screenshot pasted from the clipboard comes as `image.png` or without a name).
 */
export function pastedFilename(name: string, type: string, now: Date): string {
  if (name && name !== 'image.png' && name !== 'blob') return name;
  const ext = type.startsWith('image/') ? type.slice('image/'.length).replace('jpeg', 'jpg').replace(/\+.*$/, '') : 'bin';
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
  return `pasted-image-${stamp}.${ext}`;
}
