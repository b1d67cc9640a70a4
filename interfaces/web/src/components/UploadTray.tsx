import type { DraftUpload } from '../state/uploads';
import { formatSize, isInlineImage, uploadPercent } from '../state/uploads';

interface Props {
  uploads: readonly DraftUpload[];
  onRemove: (localId: string) => void;
}

/**
 * The files going with the next message: each with its upload progress (a progress bar named
 * `Uploading <filename>`), then a preview or its name, and a button `Remove <filename>`.
 */
export function UploadTray({ uploads, onRemove }: Props) {
  if (uploads.length === 0) return null;
  return (
    <ul className="upload-tray" aria-label="Attachments">
      {uploads.map((u) => {
        const percent = uploadPercent(u);
        const preview = u.attachment && isInlineImage(u.attachment) ? (u.attachment.thumbnail_url ?? u.attachment.url) : null;
        return (
          <li key={u.localId} className={`upload upload-${u.state}`}>
            {preview ? (
              <img className="upload-preview" src={preview} alt="" />
            ) : (
              <span className="upload-preview upload-preview-file" aria-hidden="true" />
            )}
            <span className="upload-text">
              <span className="upload-name">{u.filename}</span>
              {u.state === 'uploading' && (
                <progress aria-label={`Uploading ${u.filename}`} value={percent} max={100}>
                  {percent}%
                </progress>
              )}
              <small className="upload-status">
                {u.state === 'uploading'
                  ? `${percent}% of ${formatSize(u.size)}`
                  : u.state === 'done'
                    ? formatSize(u.size)
                    : (u.error ?? 'Upload failed')}
              </small>
            </span>
            <button
              type="button"
              className="upload-remove"
              aria-label={`Remove ${u.filename}`}
              title="Remove"
              onClick={() => onRemove(u.localId)}
            >
              ×
            </button>
          </li>
        );
      })}
    </ul>
  );
}
