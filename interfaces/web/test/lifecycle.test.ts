import { describe, expect, it } from 'vitest';
import { quoteOf, supersedes, toggleReaction, tombstone, withPending } from '../src/state/lifecycle';
import { timeline } from '../src/state/selectors';
import { createChatStore, type ChatStore } from '../src/state/store';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');
const carol = user('carol');

function withConversation(): { store: ChatStore; id: string } {
  const store = createChatStore(me);
  const c = summary([member(me), member(bob)]);
  store.dispatch({ type: 'conversationUpserted', conversation: c });
  store.dispatch({
    type: 'messagesLoaded',
    conversationId: c.id,
    mode: 'initial',
    hasMore: false,
    messages: [
      message(c.id, 1, bob, { body: 'original' }),
      message(c.id, 2, me, { body: 'mine' }),
      message(c.id, 3, me, { body: 'answer', reply_to: { id: `msg-${c.id}-1`, seq: 1, sender_id: bob.id, body: 'original', deleted: false } }),
    ],
  });
  return { store, id: c.id };
}

/** The log as the user sees it: body (or DELETED), edited, reactions. */
function shown(store: ChatStore, id: string) {
  const s = store.getState();
  return timeline(s.messages[id].items, s.outbox[id], s.conversations[id], me.id, s.pending).map((i) => ({
    seq: i.seq,
    body: i.deleted ? 'DELETED' : i.body,
    edited: i.edited,
    reactions: i.reactions.map((r) => `${r.emoji}${r.user_ids.length}`).join(' '),
    quote: i.replyTo ? (i.replyTo.deleted ? 'DELETED' : i.replyTo.body) : null,
  }));
}

describe('message_updated', () => {
  it('replaces the message, the quotes of its replies and the list’s last message', () => {
    const { store, id } = withConversation();
    const [first, , last] = store.getState().messages[id].items;
    expect(store.getState().conversations[id].last_message?.id).toBe(last.id);

    store.dispatch({ type: 'messageUpdated', message: { ...first, body: 'changed', edited_at: '2024-01-01T13:00:00Z' } });
    expect(shown(store, id)[0]).toMatchObject({ body: 'changed', edited: true });
    expect(shown(store, id)[2].quote).toBe('changed');

    store.dispatch({ type: 'messageUpdated', message: tombstone(first) });
    expect(shown(store, id)[0]).toMatchObject({ body: 'DELETED', edited: false });
    expect(shown(store, id)[2].quote).toBe('DELETED');

    store.dispatch({ type: 'messageUpdated', message: { ...last, body: 'last, changed', edited_at: '2024-01-01T13:00:00Z' } });
    expect(store.getState().conversations[id].last_message?.body).toBe('last, changed');
    store.dispatch({ type: 'messageUpdated', message: tombstone(last) });
    expect(store.getState().conversations[id].last_message).toMatchObject({ id: last.id, deleted: true, body: '' });
  });

  it('never lets an older edit or a pre-deletion copy replace a newer one', () => {
    const { store, id } = withConversation();
    const first = store.getState().messages[id].items[0];
    const v2 = { ...first, body: 'v2', edited_at: '2024-01-01T13:00:02Z' };
    const v1 = { ...first, body: 'v1', edited_at: '2024-01-01T13:00:01Z' };
    store.dispatch({ type: 'messageUpdated', message: v2 });
    store.dispatch({ type: 'messageUpdated', message: v1 }); // crossed on the way
    expect(shown(store, id)[0].body).toBe('v2');
    store.dispatch({ type: 'messageUpdated', message: tombstone(v2) });
    store.dispatch({ type: 'messageUpdated', message: v2 });
    expect(shown(store, id)[0].body).toBe('DELETED');
    expect(supersedes(tombstone(v2), v2)).toBe(false);
  });

  it('ignores a message that is not loaded', () => {
    const { store, id } = withConversation();
    const before = store.getState();
    store.dispatch({ type: 'messageUpdated', message: message(id, 99, bob) });
    expect(store.getState().messages).toBe(before.messages);
  });
});

describe('reactions', () => {
  it('keep first-reaction order and reacting order, and an emoji with nobody left disappears', () => {
    let r = toggleReaction([], '👍', bob.id, true);
    r = toggleReaction(r, '🎉', me.id, true);
    r = toggleReaction(r, '👍', me.id, true);
    r = toggleReaction(r, '👍', me.id, true); // again: no change
    expect(r).toEqual([
      { emoji: '👍', user_ids: [bob.id, me.id] },
      { emoji: '🎉', user_ids: [me.id] },
    ]);
    r = toggleReaction(r, '🎉', me.id, false);
    r = toggleReaction(r, '🎉', me.id, false); // missing: no change
    expect(r).toEqual([{ emoji: '👍', user_ids: [bob.id, me.id] }]);
  });

  it('reactions_updated replaces the reactions of a loaded message', () => {
    const { store, id } = withConversation();
    store.dispatch({
      type: 'reactionsUpdated',
      conversationId: id,
      messageId: `msg-${id}-2`,
      reactions: [{ emoji: '❤️', user_ids: [bob.id, carol.id] }],
    });
    expect(shown(store, id)[1].reactions).toBe('❤️2');
  });
});

describe('optimistic changes', () => {
  it('show at once, give way to the server’s result when accepted', () => {
    const { store, id } = withConversation();
    const mine = store.getState().messages[id].items[1];
    store.dispatch({ type: 'changeStarted', messageId: mine.id, change: { id: 'e1', kind: 'edit', body: 'mine, edited', at: '2024-01-01T13:00:00Z' } });
    expect(shown(store, id)[1]).toMatchObject({ body: 'mine, edited', edited: true });
    expect(timeline(store.getState().messages[id].items, [], undefined, me.id, store.getState().pending)[1].changing).toBe(true);

    const fromServer = { ...mine, body: 'mine, edited (normalised)', edited_at: '2024-01-01T13:00:01Z' };
    store.dispatch({ type: 'changeAccepted', conversationId: id, messageId: mine.id, changeId: 'e1', message: fromServer });
    expect(shown(store, id)[1]).toMatchObject({ body: 'mine, edited (normalised)', edited: true });
    expect(store.getState().pending).toEqual({});
  });

  it('roll back to the server’s copy when refused, and say why', () => {
    const { store, id } = withConversation();
    const first = store.getState().messages[id].items[0];
    store.dispatch({ type: 'changeStarted', messageId: first.id, change: { id: 'd1', kind: 'delete' } });
    store.dispatch({ type: 'changeStarted', messageId: first.id, change: { id: 'r1', kind: 'react', emoji: '👍', add: true } });
    expect(shown(store, id)[0]).toMatchObject({ body: 'DELETED', reactions: '' });

    store.dispatch({ type: 'changeRefused', messageId: first.id, changeId: 'd1', error: 'You may not delete this message.' });
    expect(shown(store, id)[0]).toMatchObject({ body: 'original', reactions: '👍1' });
    expect(store.getState().notice).toBe('You may not delete this message.');

    store.dispatch({ type: 'changeRefused', messageId: first.id, changeId: 'r1', error: 'Not connected.' });
    expect(shown(store, id)[0]).toMatchObject({ body: 'original', reactions: '' });
    expect(store.getState().pending).toEqual({});
  });

  it('a pending reaction over server events that already hold it counts the user once', () => {
    const { store, id } = withConversation();
    const first = store.getState().messages[id].items[0];
    store.dispatch({ type: 'changeStarted', messageId: first.id, change: { id: 'r1', kind: 'react', emoji: '👍', add: true } });
    store.dispatch({ type: 'reactionsUpdated', conversationId: id, messageId: first.id, reactions: [{ emoji: '👍', user_ids: [bob.id, me.id] }] });
    expect(shown(store, id)[0].reactions).toBe('👍2');
    store.dispatch({
      type: 'changeAccepted',
      conversationId: id,
      messageId: first.id,
      changeId: 'r1',
      reactions: [{ emoji: '👍', user_ids: [bob.id, me.id] }],
    });
    expect(shown(store, id)[0].reactions).toBe('👍2');
  });

  it('a deletion hides edits and reactions made before it', () => {
    const m = message('c', 1, me, { reactions: [{ emoji: '👍', user_ids: [bob.id] }] });
    const view = withPending(
      m,
      [
        { id: 'a', kind: 'delete' },
        { id: 'b', kind: 'edit', body: 'x', at: '2024-01-01T00:00:00Z' },
      ],
      me.id,
    );
    expect(view).toMatchObject({ deleted: true, body: '', reactions: [], edited_at: null });
  });
});

describe('quotes', () => {
  it('quote at most 200 code points, and nothing once deleted', () => {
    const long = '😀'.repeat(250);
    const m = message('c', 1, bob, { body: long });
    expect([...quoteOf(m).body]).toHaveLength(200);
    expect(quoteOf(tombstone(m))).toMatchObject({ body: '', deleted: true });
  });
});

describe('mention counts', () => {
  it('read to the end: no unread, so no unread mentions either', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)], { unread_count: 2, mention_count: 1 });
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({ type: 'unreadSet', conversationId: c.id, unread: 0 });
    expect(store.getState().conversations[c.id]).toMatchObject({ unread_count: 0, mention_count: 0 });
  });
});

describe('notices', () => {
  it('a refused change is told even when the same words were told (and dismissed) before', () => {
    const { store, id } = withConversation();
    const first = store.getState().messages[id].items[0];
    store.dispatch({ type: 'changeStarted', messageId: first.id, change: { id: 'a', kind: 'delete' } });
    store.dispatch({ type: 'changeRefused', messageId: first.id, changeId: 'a', error: 'Not connected.' });
    const told = store.getState().noticeId;
    store.dispatch({ type: 'changeStarted', messageId: first.id, change: { id: 'b', kind: 'delete' } });
    store.dispatch({ type: 'changeRefused', messageId: first.id, changeId: 'b', error: 'Not connected.' });
    expect(store.getState()).toMatchObject({ notice: 'Not connected.', noticeId: told + 1 });
    store.dispatch({ type: 'notice', notice: 'Not connected.' }); // a repeated socket problem: not again
    expect(store.getState().noticeId).toBe(told + 1);
  });
});
