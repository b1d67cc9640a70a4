import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import type { Attachment } from '../api/types';
import { formatSize } from '../state/uploads';

/** An image at full size in a dialog named by its filename; Escape, `Close` or a click beside it closes. */
export function ImageViewer({ attachment, onClose }: { attachment: Attachment; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      opener?.focus?.({ preventScroll: true });
    };
  }, [onClose]);

  return createPortal(
    <div className="viewer-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="viewer" role="dialog" aria-modal="true" aria-label={attachment.filename}>
        <header className="viewer-bar">
          <span className="viewer-title">
            {attachment.filename}
            <small>
              {attachment.width && attachment.height ? `${attachment.width} × ${attachment.height} · ` : ''}
              {formatSize(attachment.size)}
            </small>
          </span>
          <a className="viewer-link" href={attachment.url} target="_blank" rel="noopener noreferrer">
            Open original
          </a>
          <button type="button" className="secondary small" ref={closeRef} onClick={onClose}>
            Close
          </button>
        </header>
        <img className="viewer-image" src={attachment.url} alt={attachment.filename} />
      </div>
    </div>,
    document.body,
  );
}
