import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/**
 * A small file glob (Node 20 has no fs.glob): `*` and `?` within one path
 * segment, `[abc]` / `[a-z]` classes, `{png,tif}` alternatives and `**` for any
 * number of folders. Matches files only, sorted by path. Hidden files (leading
 * dot) match only when the pattern segment starts with a dot.
 */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.mrc', '.mrcs', '.map'] as const;

export function hasGlobMagic(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

export async function expandGlob(pattern: string): Promise<string[]> {
  const normalised = pattern.split(sep).join('/');
  const segments = normalised.split('/');
  // The folder before the first segment with glob characters is walked from.
  let fixed = 0;
  while (fixed < segments.length - 1 && !hasGlobMagic(segments[fixed])) fixed++;
  const rootSegments = segments.slice(0, fixed);
  const root = rootSegments.length === 0 ? '.' : rootSegments.join('/') || '/';
  const rest = segments.slice(fixed);
  const matchers = rest.map((s) => (s === '**' ? null : segmentRegex(s)));
  const hidden = rest.map((s) => s.startsWith('.'));
  const out: string[] = [];

  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth >= matchers.length) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const matcher = matchers[depth];
    const last = depth === matchers.length - 1;
    if (matcher === null) {
      // `**`: zero folders (match the next segment here) or one more folder (stay on `**`).
      await walk(dir, depth + 1);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('.')) await walk(join(dir, e.name), depth);
      }
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') && !hidden[depth]) continue;
      if (!matcher.test(e.name)) continue;
      const path = join(dir, e.name);
      let isFile = e.isFile();
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        const s = await stat(path).catch(() => undefined);
        isFile = s?.isFile() ?? false;
        isDir = s?.isDirectory() ?? false;
      }
      if (last && isFile) out.push(path);
      else if (!last && isDir) await walk(path, depth + 1);
    }
  };
  await walk(root, 0);
  return [...new Set(out)].sort();
}

/** The image files directly inside a folder, sorted. */
export async function imagesInFolder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x)))
    .map((e) => join(dir, e.name))
    .sort();
}

function segmentRegex(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        let body = segment.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end < 0) out += '\\{';
      else {
        out += `(?:${segment
          .slice(i + 1, end)
          .split(',')
          .map((alt) => segmentRegex(alt).source.slice(1, -1))
          .join('|')})`;
        i = end;
      }
    } else out += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
