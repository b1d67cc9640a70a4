// Attachments and search through the ChatClient (a fake socket and a fake upload) and in the components.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api/http';
import { ApiError } from '../src/api/http';
import type { Attachment } from '../src/api/types';
import type { UploadOptions } from '../src/api/upload';
import { ChatClient } from '../src/app/chatClient';
import { ChatContext } from '../src/app/context';
import { ChatWindow } from '../src/components/ChatWindow';
import { SearchPanel } from '../src/components/SearchPanel';
import { timeline } from '../src/state/selectors';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');

function attachment(id: string, filename: string, contentType: string): Attachment {
  const image = contentType.startsWith('image/');
  return {
    id,
    filename,
    content_type: contentType,
    size: 2048,
    sha256: 'b'.repeat(64),
    width: image ? 800 : null,
    height: image ? 600 : null,
    url: `/api/blobs/${id}?sig=s`,
    thumbnail_url: image ? `/api/blobs/${id}/thumbnail?sig=s` : null,
  };
}

/** A fake `POST /api/uploads`: each call waits until the test finishes or fails it. */
class FakeUploads {
  readonly calls: { opts: UploadOptions; resolve: (a: Attachment) => void; reject: (e: Error) => void }[] = [];
  readonly upload = (opts: UploadOptions) =>
    new Promise<Attachment>((resolve, reject) => {
      this.calls.push({ opts, resolve, reject });
      opts.signal?.addEventListener('abort', () => reject(new ApiError(0, 'network_error', 'cancelled')));
    });
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

async function setup() {
  const socket = new FakeSocket();
  const conversation = summary([member(me), member(bob)]);
  socket.responders.get_conversations = () => ({ ok: true, conversations: [conversation], next_cursor: null });
  socket.responders.join_conversation = () => ({ ok: true, conversation });
  socket.responders.get_messages = () => ({ ok: true, messages: [], has_more: false });
  socket.responders.mark_as_read = () => ({ ok: true, unread_count: 0 });
  socket.responders.mark_as_delivered = () => ({ ok: true });
  socket.responders.typing_stop = () => ({ ok: true });
  const uploads = new FakeUploads();
  const client = new ChatClient({
    token: 'tok',
    me,
    onUnauthorized: vi.fn(),
    createSocket: () => socket,
    api: { listConnections: () => Promise.resolve({ connections: [] }) } as unknown as Api,
    isVisible: () => true,
    ackTimeoutMs: 1000,
    upload: uploads.upload,
  });
  client.start();
  socket.serverAccepts();
  await client.socket.whenSynced();
  return { socket, client, conversation, uploads };
}

afterEach(() => {
  cleanup();
});

describe('ChatClient attachments', () => {
  it('uploads picked files with progress and sends their ids, in order, with the message', async () => {
    const { socket, client, conversation, uploads } = await setup();
    const c = conversation.id;
    const done = client.attachFiles(c, [
      { file: new Blob(['x'.repeat(1000)]), name: 'plan.png' },
      { file: new Blob(['%PDF']), name: 'notes.pdf' },
    ]);
    expect(uploads.calls.map((u) => [u.opts.filename, u.opts.token])).toEqual([
      ['plan.png', 'tok'],
      ['notes.pdf', 'tok'],
    ]);
    uploads.calls[0].opts.onProgress?.(500, 1000);
    expect(client.store.getState().uploads[c].map((u) => u.loaded)).toEqual([500, 0]);

    // nothing goes while a file is still uploading
    await client.sendMessage(c, 'too early');
    expect(socket.sent('send_message')).toHaveLength(0);

    uploads.calls[1].resolve(attachment('a-2', 'notes.pdf', 'application/pdf'));
    uploads.calls[0].resolve(attachment('a-1', 'plan.png', 'image/png'));
    await done;
    socket.responders.send_message = (p) => ({
      ok: true,
      message: message(c, 1, me, {
        client_message_id: p.client_message_id,
        body: p.body,
        attachments: [attachment('a-1', 'plan.png', 'image/png'), attachment('a-2', 'notes.pdf', 'application/pdf')],
      }),
    });
    const sending = client.sendMessage(c, '');
    // shown at once, with its files, and the draft is empty again
    const shown = timeline([], client.store.getState().outbox[c], conversation, me.id);
    expect(shown.map((i) => [i.state, i.attachments.map((a) => a.filename)])).toEqual([['Sending', ['plan.png', 'notes.pdf']]]);
    expect(client.store.getState().uploads[c]).toBeUndefined();
    await sending;
    expect(socket.sent('send_message')[0]).toMatchObject({ body: '', attachment_ids: ['a-1', 'a-2'] });
    client.stop();
  });

  it('a failed send keeps its files, and Retry sends the same ids again', async () => {
    const { socket, client, conversation, uploads } = await setup();
    const c = conversation.id;
    const done = client.attachFiles(c, [{ file: new Blob(['x']), name: 'a.txt' }]);
    uploads.calls[0].resolve(attachment('a-1', 'a.txt', 'text/plain'));
    await done;
    socket.responders.send_message = () => ({ ok: false, error: { code: 'not_found', message: 'Upload not found' } });
    await client.sendMessage(c, 'see attached');
    const failed = client.store.getState().outbox[c][0];
    expect(failed).toMatchObject({ state: 'failed', attachments: [{ id: 'a-1' }] });
    await client.retry(c, failed.client_message_id);
    const sent = socket.sent('send_message');
    expect(sent.map((p) => p.attachment_ids)).toEqual([['a-1'], ['a-1']]);
    expect(sent[1].client_message_id).toBe(sent[0].client_message_id);
    client.stop();
  });

  it('Remove stops an upload quietly; a refused upload says why', async () => {
    const { client, conversation, uploads } = await setup();
    const c = conversation.id;
    const done = client.attachFiles(c, [
      { file: new Blob(['x']), name: 'oops.bin' },
      { file: new Blob(['y']), name: 'huge.iso' },
    ]);
    const [first] = client.store.getState().uploads[c];
    client.removeUpload(c, first.localId);
    expect(uploads.calls[0].opts.signal?.aborted).toBe(true);
    uploads.calls[1].reject(new ApiError(413, 'too_large', 'The file is larger than 25 MiB.'));
    await done;
    const state = client.store.getState();
    expect(state.uploads[c].map((u) => [u.filename, u.state])).toEqual([['huge.iso', 'failed']]);
    expect(state.notice).toBe('huge.iso: The file is larger than 25 MiB.');
    client.stop();
  });
});

describe('expired attachment URLs', () => {
  it('an image that fails to load fetches its message again for fresh URLs, at most once a minute', async () => {
    const { socket, client, conversation } = await setup();
    const c = conversation.id;
    const old = message(c, 5, bob, { body: 'photo', attachments: [attachment('i', 'old.png', 'image/png')] });
    client.store.dispatch({ type: 'messagesLoaded', conversationId: c, mode: 'initial', hasMore: false, messages: [old] });
    const fresh = { ...attachment('i', 'old.png', 'image/png'), url: '/api/blobs/i?sig=new', thumbnail_url: '/api/blobs/i/thumbnail?sig=new' };
    socket.responders.get_messages = () => ({ ok: true, messages: [{ ...old, attachments: [fresh] }], has_more: true });
    withClient(client, <ChatWindow conversationId={c} />);
    const image = within(screen.getByRole('log', { name: 'Messages' })).getByRole('img', { name: 'old.png' });
    const before = socket.sent('get_messages').length;
    await act(async () => {
      fireEvent.error(image);
      await flush();
    });
    expect(socket.sent('get_messages').slice(before)).toEqual([{ conversation_id: c, after_seq: 4, limit: 1 }]);
    expect(within(screen.getByRole('log', { name: 'Messages' })).getByRole('img', { name: 'old.png' }).getAttribute('src')).toBe(
      '/api/blobs/i/thumbnail?sig=new',
    );
    // bytes gone for good fail again: no loop
    await act(async () => {
      fireEvent.error(within(screen.getByRole('log', { name: 'Messages' })).getByRole('img', { name: 'old.png' }));
      await flush();
    });
    expect(socket.sent('get_messages').slice(before)).toHaveLength(1);
    client.stop();
  });
});

describe('ChatClient search', () => {
  it('asks search_messages for a page and passes the cursor back as before', async () => {
    const { socket, client, conversation } = await setup();
    const hit = { message: message(conversation.id, 4, bob, { body: 'noon works' }), conversation_id: conversation.id, highlights: [[0, 4]] as [number, number][] };
    socket.responders.search_messages = (p) => ({ ok: true, results: p.before ? [] : [hit], next_cursor: p.before ? null : 'cur-1' });
    const first = await client.searchMessages('noon');
    expect(first).toEqual({ ok: true, results: [hit], nextCursor: 'cur-1' });
    await client.searchMessages('noon', 'cur-1');
    expect(socket.sent('search_messages')).toEqual([
      { query: 'noon', limit: 20 },
      { query: 'noon', limit: 20, before: 'cur-1' },
    ]);
    socket.responders.search_messages = () => ({ ok: false, error: { code: 'validation_error', message: 'The query has no word.' } });
    expect(await client.searchMessages('noon')).toEqual({ ok: false, error: 'The query has no word.' });
    client.stop();
  });
});

function withClient(client: ChatClient, ui: ReactNode) {
  return render(<ChatContext.Provider value={client}>{ui}</ChatContext.Provider>);
}

describe('attachments in the conversation', () => {
  it('shows images inline by filename (opening full size) and other files as links named by it', async () => {
    const { client, conversation } = await setup();
    const c = conversation.id;
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: c,
      mode: 'initial',
      hasMore: false,
      messages: [
        message(c, 1, bob, {
          body: 'the plans',
          attachments: [attachment('i', 'engine.png', 'image/png'), attachment('f', 'notes.pdf', 'application/pdf')],
        }),
      ],
    });
    withClient(client, <ChatWindow conversationId={c} />);
    const log = screen.getByRole('log', { name: 'Messages' });
    const image = within(log).getByRole('img', { name: 'engine.png' });
    expect(image.getAttribute('src')).toBe('/api/blobs/i/thumbnail?sig=s');
    const file = within(log).getByRole('link', { name: 'notes.pdf' });
    expect(file.getAttribute('href')).toBe('/api/blobs/f?sig=s');
    expect(file.getAttribute('download')).toBe('notes.pdf');

    await userEvent.click(within(log).getByRole('link', { name: 'engine.png' }));
    const viewer = screen.getByRole('dialog', { name: 'engine.png' });
    expect(within(viewer).getByRole('img', { name: 'engine.png' }).getAttribute('src')).toBe('/api/blobs/i?sig=s');
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    client.stop();
  });

  it('Attach file picks files; the tray shows progress and Remove; Send waits for the upload', async () => {
    const { client, conversation, uploads } = await setup();
    const c = conversation.id;
    withClient(client, <ChatWindow conversationId={c} />);
    const attach = screen.getByRole('button', { name: 'Attach file' });
    expect(attach).toBeTruthy();
    const input = document.querySelector<HTMLInputElement>('input[type="file"]')!;
    await userEvent.upload(input, new File(['hello'], 'hello.txt', { type: 'text/plain' }));
    expect(uploads.calls).toHaveLength(1);
    act(() => uploads.calls[0].opts.onProgress?.(2, 5));
    expect(screen.getByRole('progressbar', { name: 'Uploading hello.txt' }).getAttribute('value')).toBe('40');
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Send' }).disabled).toBe(true);
    await act(async () => {
      uploads.calls[0].resolve(attachment('h', 'hello.txt', 'text/plain'));
      await flush();
    });
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Send' }).disabled).toBe(false);
    expect(screen.getByRole('button', { name: 'Remove hello.txt' })).toBeTruthy();
    client.stop();
  });

  it('a pasted image is attached', async () => {
    const { client, conversation, uploads } = await setup();
    withClient(client, <ChatWindow conversationId={conversation.id} />);
    const field = screen.getByRole('textbox', { name: 'Message' });
    const file = new File([new Uint8Array([137, 80, 78, 71])], 'image.png', { type: 'image/png' });
    fireEvent.paste(field, { clipboardData: { files: [file], items: [], types: ['Files'] } });
    expect(uploads.calls.map((u) => u.opts.filename)).toEqual([expect.stringMatching(/^pasted-image-\d{8}-\d{6}\.png$/)]);
    client.stop();
  });
});

describe('SearchPanel', () => {
  it('lists results with the matches highlighted and opens the message in its conversation', async () => {
    const { socket, client, conversation } = await setup();
    const c = conversation.id;
    const hit = message(c, 7, bob, { body: 'Lunch at noon? Noon works' });
    socket.responders.search_messages = () => ({
      ok: true,
      results: [{ message: hit, conversation_id: c, highlights: [[9, 13], [15, 19]] }],
      next_cursor: null,
    });
    withClient(client, <SearchPanel />);
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search messages' }), 'noon{Enter}');
    const list = await screen.findByRole('list', { name: 'Search results' });
    const items = await within(list).findAllByRole('listitem');
    expect(items).toHaveLength(1);
    expect([...items[0].querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['noon', 'Noon']);
    expect(items[0].textContent).toContain('Bob');
    await userEvent.click(within(items[0]).getByRole('button'));
    expect(window.location.hash).toBe(`#/c/${c}`);
    expect(client.store.getState().jump).toEqual({ conversationId: c, messageId: hit.id, seq: 7 });
    expect(socket.sent('search_messages').at(-1)).toEqual({ query: 'noon', limit: 20 });
    client.stop();
  });
});
