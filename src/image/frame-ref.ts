import { basename, extname } from 'node:path';

/**
 * A frame reference: a file path, or a file path and one frame of a stack in it,
 * written `FILE#t0003` (`t` time point, `z` slice, `p` page; 0-based, at least 4 digits).
 * Lists of frames (task `data.frames`, `segment`, `watch`) hold these strings, so one
 * entry is one frame and a stack's frames travel through the same code as files.
 * The outputs of `stack.tif#t0003` are named `stack-t0003.*`.
 */
export interface FrameRef {
  readonly file: string;
  /** The frame inside a stack, absent for a whole (single-frame) file. */
  readonly frame?: { readonly axis: 't' | 'z' | 'p'; readonly index: number };
}

const REF = /^(.*)#([tzp])(\d{4,})$/;

export function parseFrameRef(ref: string): FrameRef {
  const m = REF.exec(ref);
  if (!m) return { file: ref };
  return { file: m[1], frame: { axis: m[2] as 't' | 'z' | 'p', index: Number(m[3]) } };
}

export function frameLabel(axis: 't' | 'z' | 'p', index: number): string {
  return `${axis}${String(index).padStart(4, '0')}`;
}

export function formatFrameRef(file: string, axis: 't' | 'z' | 'p', index: number): string {
  return `${file}#${frameLabel(axis, index)}`;
}

/** NAME of the outputs: the file's name without extension, plus `-t0003` for a frame of a stack. */
export function frameRefStem(ref: string): string {
  const { file, frame } = parseFrameRef(ref);
  const stem = basename(file, extname(file));
  return frame ? `${stem}-${frameLabel(frame.axis, frame.index)}` : stem;
}
