import type { Quote } from '../api/types';

interface Props {
  quote: Quote;
  authorName: string;
  /** Shows the original in the log (absent while the reply is being sent). */
  onJump?: (quote: Quote, origin: HTMLElement) => void;
}

/**
 * The message a reply answers, labelled `Reply to <display name>`, with its text as it is now. The
 * author's name and the text share one element, so the quoted text never reads as a message body.
 */
export function QuoteBlock({ quote, authorName, onJump }: Props) {
  const content = (
    <>
      <strong className="quote-author">{authorName}</strong>
      {quote.deleted ? <em className="quote-deleted">Message deleted</em> : quote.body}
    </>
  );
  return (
    <blockquote className="quote" aria-label={`Reply to ${authorName}`}>
      {onJump ? (
        <button type="button" className="quote-link" title="Show the original message" onClick={(e) => onJump(quote, e.currentTarget)}>
          {content}
        </button>
      ) : (
        <span className="quote-link">{content}</span>
      )}
    </blockquote>
  );
}
