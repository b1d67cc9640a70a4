// Files the user gives the page: picked in the file dialog, dropped, or pasted.
import type { PickedFile } from '../app/chatClient';
import { pastedFilename } from '../state/uploads';

/** The files of a file input or a drop, under their own names. */
export function pickedFiles(list: FileList | readonly File[] | null | undefined): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, name: file.name || 'file' }));
}

/** The files of a paste (a screenshot is an image without a real name: it gets one). */
export function pastedFiles(data: DataTransfer | null): PickedFile[] {
  if (!data) return [];
  const now = new Date();
  const files = Array.from(data.files ?? []);
  const fromItems =
    files.length > 0
      ? files
      : Array.from(data.items ?? []).flatMap((item) => {
          const file = item.kind === 'file' ? item.getAsFile() : null;
          return file ? [file] : [];
        });
  return fromItems.map((file) => ({ file, name: pastedFilename(file.name, file.type, now) }));
}

/** Whether a drag carries files (not text or a link being dragged around the page). */
export function dragHasFiles(data: DataTransfer | null): boolean {
  return !!data && Array.from(data.types ?? []).includes('Files');
}
