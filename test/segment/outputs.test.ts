import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import { MAX_PNG_LABEL, readLabelPng } from '../../src/masks/label-png.js';
import { encodeRleWindow } from '../../src/masks/rle.js';
import type { Instance, Segmentation } from '../../src/segmenters/types.js';
import { writeSegmentationOutputs } from '../../src/segment/outputs.js';

const dir = mkdtempSync(join(tmpdir(), 'samstar-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One single-pixel instance per pixel, row-major, `count` of them. */
function pixelInstances(width: number, height: number, count: number): Segmentation {
  const instances: Instance[] = [];
  for (let p = 0; p < count; p++) {
    const x = p % width;
    const y = Math.floor(p / width);
    instances.push({ segmentation: encodeRleWindow(new Uint8Array([1]), { x0: x, y0: y, w: 1, h: 1 }, width, height), area: 1, bbox: [x, y, 0, 0], predicted_iou: 1, stability_score: 1, point_coords: [[x, y]], crop_box: [0, 0, width, height] });
  }
  return { width, height, instances, knobs: {}, timings: {} };
}

describe('segmentation outputs', () => {
  const width = 300;
  const height = 240;
  const frame = frameFromPixels({ source: join(dir, 'dense.png'), width, height, channels: 1, data: new Uint8Array(width * height).fill(90) });

  it('a frame with more instances than a 16-bit PNG holds keeps its record and overlay, and the record says why there is no label PNG', async () => {
    const out = join(dir, 'many');
    const paths = await writeSegmentationOutputs(out, frame, pixelInstances(width, height, MAX_PNG_LABEL + 5), {});
    expect(paths.labels).toBeUndefined();
    expect(existsSync(join(out, 'dense.labels.png'))).toBe(false);
    expect(existsSync(paths.overlay)).toBe(true);
    const record = JSON.parse(readFileSync(paths.json, 'utf8')) as { count: number; labels_png: string; instances: unknown[] };
    expect(record.count).toBe(MAX_PNG_LABEL + 5);
    expect(record.instances.length).toBe(MAX_PNG_LABEL + 5);
    expect(record.labels_png).toMatch(/65540 instances do not fit a 16-bit PNG/);
  });

  it('up to 65535 instances get their label PNG', async () => {
    const out = join(dir, 'fits');
    const paths = await writeSegmentationOutputs(out, frame, pixelInstances(width, height, 1000), {});
    const labels = await readLabelPng(paths.labels!);
    expect(Math.max(...labels.data)).toBe(1000);
    expect(JSON.parse(readFileSync(paths.json, 'utf8')).labels_png).toBeUndefined();
  });
});
