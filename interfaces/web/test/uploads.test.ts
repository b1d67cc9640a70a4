import { describe, expect, it } from 'vitest';
import type { Attachment } from '../src/api/types';
import { reducer, initialState } from '../src/state/reducer';
import {
  addUploads,
  attachmentsSummary,
  canSend,
  draftUpload,
  fitWithin,
  formatSize,
  isInlineImage,
  MAX_ATTACHMENTS,
  pastedFilename,
  readyAttachments,
  uploadPercent,
} from '../src/state/uploads';
import { user } from './fixtures';

function attachment(id: string, filename: string, contentType = 'image/png'): Attachment {
  const image = contentType.startsWith('image/');
  return {
    id,
    filename,
    content_type: contentType,
    size: 2048,
    sha256: 'a'.repeat(64),
    width: image ? 640 : null,
    height: image ? 480 : null,
    url: `/blobs/${id}?sig=x`,
    thumbnail_url: image ? `/blobs/${id}/thumb?sig=x` : null,
  };
}

const C = 'conv-1';
const me = user('alice');

describe('draft uploads in the store', () => {
  it('shows progress only forward, then the server attachment, and what the next message carries', () => {
    let s = initialState(me);
    s = reducer(s, { type: 'uploadsAdded', conversationId: C, uploads: [draftUpload('a', 'cat.png', 1000), draftUpload('b', 'notes.pdf', 400)] });
    expect(canSend('', s.uploads[C])).toBe(false);
    s = reducer(s, { type: 'uploadProgress', conversationId: C, localId: 'a', loaded: 600 });
    s = reducer(s, { type: 'uploadProgress', conversationId: C, localId: 'a', loaded: 300 });
    expect(uploadPercent(s.uploads[C][0])).toBe(60);
    // every byte sent is not done yet: the server has not answered
    s = reducer(s, { type: 'uploadProgress', conversationId: C, localId: 'a', loaded: 1000 });
    expect(uploadPercent(s.uploads[C][0])).toBe(99);
    s = reducer(s, { type: 'uploadDone', conversationId: C, localId: 'b', attachment: attachment('srv-b', 'notes.pdf', 'application/pdf') });
    // one still uploading: nothing may go yet, even with text
    expect(canSend('hello', s.uploads[C])).toBe(false);
    s = reducer(s, { type: 'uploadDone', conversationId: C, localId: 'a', attachment: attachment('srv-a', 'cat.png') });
    expect(uploadPercent(s.uploads[C][0])).toBe(100);
    expect(canSend('', s.uploads[C])).toBe(true);
    // in the order the files were added, not the order they finished
    expect(readyAttachments(s.uploads[C]).map((a) => a.id)).toEqual(['srv-a', 'srv-b']);
    s = reducer(s, { type: 'uploadsSent', conversationId: C, attachmentIds: ['srv-a', 'srv-b'] });
    expect(s.uploads[C]).toBeUndefined();
  });

  it('keeps a failed upload with its reason and tells the user, and sends without it', () => {
    let s = initialState(me);
    s = reducer(s, { type: 'uploadsAdded', conversationId: C, uploads: [draftUpload('a', 'huge.iso', 10), draftUpload('b', 'ok.txt', 5)] });
    s = reducer(s, { type: 'uploadFailed', conversationId: C, localId: 'a', error: 'The file is too large.' });
    s = reducer(s, { type: 'uploadDone', conversationId: C, localId: 'b', attachment: attachment('srv-b', 'ok.txt', 'text/plain') });
    expect(s.uploads[C][0]).toMatchObject({ state: 'failed', error: 'The file is too large.' });
    expect(s.notice).toBe('huge.iso: The file is too large.');
    expect(canSend('', s.uploads[C])).toBe(true);
    expect(readyAttachments(s.uploads[C]).map((a) => a.id)).toEqual(['srv-b']);
    // a late failure never undoes a finished upload
    const again = reducer(s, { type: 'uploadFailed', conversationId: C, localId: 'b', error: 'late' });
    expect(again.uploads[C][1].state).toBe('done');
    s = reducer(s, { type: 'uploadRemoved', conversationId: C, localId: 'a' });
    expect(s.uploads[C].map((u) => u.filename)).toEqual(['ok.txt']);
  });

  it('takes at most 10 files per message and says so', () => {
    const many = Array.from({ length: 12 }, (_, i) => draftUpload(`u${i}`, `f${i}.txt`, 1));
    const { list, refused } = addUploads([draftUpload('x', 'first.txt', 1)], many);
    expect(list).toHaveLength(MAX_ATTACHMENTS);
    expect(refused.map((u) => u.localId)).toEqual(['u9', 'u10', 'u11']);
    const s = reducer(initialState(me), { type: 'uploadsAdded', conversationId: C, uploads: many });
    expect(s.uploads[C]).toHaveLength(MAX_ATTACHMENTS);
    expect(s.notice).toBe('A message can carry at most 10 files.');
  });

  it('leaves other conversations and unknown uploads alone', () => {
    let s = reducer(initialState(me), { type: 'uploadsAdded', conversationId: C, uploads: [draftUpload('a', 'a.png', 10)] });
    const before = s;
    s = reducer(s, { type: 'uploadProgress', conversationId: 'other', localId: 'a', loaded: 5 });
    s = reducer(s, { type: 'uploadDone', conversationId: C, localId: 'nope', attachment: attachment('z', 'z.png') });
    expect(s).toBe(before);
  });
});

describe('showing attachments', () => {
  it('shows the four image types inline and every other type as a file', () => {
    for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) expect(isInlineImage(attachment('i', 'x', type))).toBe(true);
    for (const type of ['image/svg+xml', 'application/pdf', 'application/octet-stream', 'text/html']) {
      expect(isInlineImage(attachment('f', 'x', type))).toBe(false);
    }
  });

  it('fits images in a box without enlarging them', () => {
    expect(fitWithin(640, 480, 240)).toEqual({ width: 240, height: 180 });
    expect(fitWithin(100, 400, 240)).toEqual({ width: 60, height: 240 });
    expect(fitWithin(50, 20, 240)).toEqual({ width: 50, height: 20 });
    expect(fitWithin(null, 20, 240)).toBeNull();
  });

  it('writes sizes people read', () => {
    expect(formatSize(1)).toBe('1 byte');
    expect(formatSize(900)).toBe('900 bytes');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(320 * 1024)).toBe('320 KB');
    expect(formatSize(25 * 1024 * 1024)).toBe('25 MB');
  });

  it('sums up a message without text for the conversation list', () => {
    expect(attachmentsSummary([attachment('a', 'cat.png')])).toBe('cat.png');
    expect(attachmentsSummary([attachment('a', 'cat.png'), attachment('b', 'dog.jpg', 'image/jpeg')])).toBe('2 photos');
    expect(attachmentsSummary([attachment('a', 'cat.png'), attachment('b', 'a.pdf', 'application/pdf')])).toBe('2 files');
  });

  it('names a pasted screenshot after the moment it was pasted, and keeps real names', () => {
    const at = new Date('2026-03-04T05:06:07.890Z');
    expect(pastedFilename('image.png', 'image/png', at)).toBe('pasted-image-20260304-050607.png');
    expect(pastedFilename('', 'image/jpeg', at)).toBe('pasted-image-20260304-050607.jpg');
    expect(pastedFilename('diagram.webp', 'image/webp', at)).toBe('diagram.webp');
  });
});
