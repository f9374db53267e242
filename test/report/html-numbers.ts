import { expect } from 'vitest';
import { formatNumber, type Format } from '../../src/report/html.js';

/** The numbers of a report page: every `data-path` span with its value and its text. */
export function taggedNumbers(html: string): { path: string; value: unknown; format: Format; text: string }[] {
  const out: { path: string; value: unknown; format: Format; text: string }[] = [];
  const re = /<span class="num" data-path="([^"]+)" data-value="([^"]+)" data-format="(\w+)">([^<]*)<\/span>/g;
  const unescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const m of html.matchAll(re)) out.push({ path: unescape(m[1]), value: JSON.parse(unescape(m[2])), format: m[3] as Format, text: m[4] });
  return out;
}

export function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const key of path.split('.')) v = (v as Record<string, unknown> | null)?.[key];
  return v;
}

/** Every tagged number equals summary.json at its path, and its text is that number rounded. */
export function expectNumbersMatch(html: string, summary: unknown): number {
  const tagged = taggedNumbers(html);
  for (const t of tagged) {
    const expected = valueAt(summary, t.path);
    expect(typeof expected, t.path).toBe('number');
    expect(t.value, t.path).toBe(expected);
    // The text is that number, rounded as the page rounds it; and it reads back as about the value.
    expect(t.text, t.path).toBe(formatNumber(expected as number, t.format));
    const shown = Number(t.text);
    expect(Math.abs(shown - (expected as number)), `${t.path}: "${t.text}"`).toBeLessThanOrEqual(Math.max(0.5, Math.abs(expected as number)) * 0.01);
  }
  return tagged.length;
}
