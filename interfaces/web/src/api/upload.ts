// `POST /api/uploads` (contract section 9): one file in the multipart field `file`. XMLHttpRequest,
// not fetch, because only it reports how much of the body has been sent (the progress shown).
import type { Attachment } from './types';
import type { ErrorBody, UploadBody } from './contract.gen';
import { ApiError } from './http';

export interface UploadOptions {
  token: string;
  file: Blob;
  filename: string;
  /** Called as the body goes out: bytes sent so far, of `total`. */
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

function errorOf(xhr: XMLHttpRequest): ApiError {
  let body: Partial<ErrorBody> | null;
  try {
    body = JSON.parse(xhr.responseText) as Partial<ErrorBody>;
  } catch {
    body = null;
  }
  const err = body?.error;
  const status = xhr.status;
  if (err?.code && err.message) return new ApiError(status, err.code, err.message);
  if (status === 413) return new ApiError(status, 'too_large', 'The file is too large to upload.');
  if (status === 401) return new ApiError(status, 'unauthorized', 'Your session has expired. Please sign in again.');
  return new ApiError(status, 'http_error', `Upload failed (${status}).`);
}

/** Uploads one file; resolves with its Attachment, rejects with an ApiError (status 0: no answer or aborted). */
export function uploadFile({ token, file, filename, onProgress, signal }: UploadOptions): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ApiError(0, 'network_error', 'The upload was cancelled.'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.open('POST', '/api/uploads');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((JSON.parse(xhr.responseText) as UploadBody).upload);
        } catch {
          reject(new ApiError(xhr.status, 'http_error', 'The server sent an unexpected answer.'));
        }
      } else reject(errorOf(xhr));
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection.'));
    };
    xhr.onabort = () => {
      done();
      reject(new ApiError(0, 'network_error', 'The upload was cancelled.'));
    };
    const form = new FormData();
    form.append('file', file, filename);
    xhr.send(form);
  });
}
