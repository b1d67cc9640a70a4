import type { TimelineItem } from '../state/selectors';
import { formatFull, formatTime } from '../util/time';

interface Props {
  item: TimelineItem;
  senderName: string | null;
  onRetry: (clientMessageId: string) => void;
}

/** One message: the body as plain text (never HTML), local time, and for own messages their state. */
export function MessageBubble({ item, senderName, onRetry }: Props) {
  const stateClass = item.state ? ` msg-${item.state.toLowerCase()}` : '';
  return (
    <li className={`msg ${item.own ? 'msg-own' : 'msg-other'}${stateClass}`} data-seq={item.seq ?? undefined}>
      <div className="bubble">
        {senderName && <div className="msg-sender">{senderName}</div>}
        <p className="msg-body">{item.body}</p>
        <div className="msg-meta">
          <time dateTime={item.sentAt} title={formatFull(item.sentAt)}>
            {formatTime(item.sentAt)}
          </time>
          {item.state && (
            <span className="msg-state" title={item.error ?? undefined}>
              {item.state}
            </span>
          )}
        </div>
      </div>
      {item.state === 'Failed' && (
        <div className="msg-retry">
          {item.error && <span className="msg-error">{item.error}</span>}
          <button type="button" className="link-button" onClick={() => onRetry(item.clientMessageId)}>
            Retry
          </button>
        </div>
      )}
    </li>
  );
}
