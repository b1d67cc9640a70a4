import { useState } from 'react';
import type { Attachment } from '../api/types';
import { fitWithin, formatSize, isInlineImage } from '../state/uploads';
import { ImageViewer } from './ImageViewer';

/** The longest side of an inline image, in CSS pixels (the server's thumbnails are at most 320 px). */
const INLINE_BOX = 240;

/**
 * A message's files: images inline (their thumbnail; alt text = the filename) that open full size,
 * other files as cards whose link is named by the filename.
 */
export function MessageAttachments({
  attachments,
  onBroken,
}: {
  attachments: readonly Attachment[];
  /** An image did not load (its signed URL may have expired): fetch the message again. */
  onBroken?: () => void;
}) {
  const [open, setOpen] = useState<Attachment | null>(null);
  if (attachments.length === 0) return null;
  const images = attachments.filter(isInlineImage);
  const files = attachments.filter((a) => !isInlineImage(a));
  return (
    <div className="attachments">
      {images.length > 0 && (
        <div className={`attachment-images${images.length > 1 ? ' several' : ''}`}>
          {images.map((a) => {
            const size = fitWithin(a.width, a.height, INLINE_BOX);
            return (
              <a
                key={a.id}
                className="attachment-image"
                href={a.url}
                target="_blank"
                rel="noopener noreferrer"
                onClick={(e) => {
                  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // a new tab, as asked
                  e.preventDefault();
                  setOpen(a);
                }}
              >
                <img
                  src={a.thumbnail_url ?? a.url}
                  alt={a.filename}
                  width={size?.width}
                  height={size?.height}
                  loading="lazy"
                  decoding="async"
                  onError={onBroken}
                />
              </a>
            );
          })}
        </div>
      )}
      {files.map((a) => (
        <div key={a.id} className="attachment-file">
          <span className="attachment-file-icon" aria-hidden="true">
            {fileBadge(a.filename)}
          </span>
          <span className="attachment-file-text">
            <a href={a.url} download={a.filename} className="attachment-file-name">
              {a.filename}
            </a>
            <small className="attachment-file-size">{formatSize(a.size)}</small>
          </span>
        </div>
      ))}
      {open && <ImageViewer attachment={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** A short label for a file's card: its extension (`PDF`), else `FILE`. */
function fileBadge(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const ext = dot > 0 ? filename.slice(dot + 1) : '';
  return ext && ext.length <= 4 ? ext.toUpperCase() : 'FILE';
}
