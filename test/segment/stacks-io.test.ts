import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTaskConfig } from '../../src/config/task.js';
import { writeSynthDataset } from '../../src/data/synth-files.js';
import { watchFolder, type WatchFrameResult } from '../../src/deploy/watch.js';
import { decodeRle } from '../../src/masks/rle.js';
import { readLabelPng } from '../../src/masks/label-png.js';
import { INSTANCE_COLUMNS, FRAME_COLUMNS } from '../../src/measure/csv.js';
import { segmentFiles } from '../../src/segment/batch.js';
import { framesCsvPath, RunTables } from '../../src/segment/tables.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { resolveTask } from '../../src/train/task.js';
import { encodeTiff, type TiffPage } from '../fixtures/tiff-writer.js';

/**
 * A 3-page TIFF through every door images come in by (segment, a task's data.frames,
 * watch): three frames each time, named stack-p0000…; and the run's tables: the CSV
 * read back by an RFC 4180 parser, the COCO file's RLE decoded against the label images.
 * The blob segmenter (no model) keeps it fast.
 */
const W = 96;
let dir: string;
let stack: string;
let pageLabels: string[];
let greyPages: Uint8Array[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samstar-stacks-io-'));
  const synth = await writeSynthDataset(join(dir, 'data'), { frames: 3, width: W, height: W, count: 6, diameter: { median: 12 } }, 11);
  greyPages = [];
  for (const image of synth.images) {
    const { data } = await sharp(image).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    greyPages.push(new Uint8Array(data));
  }
  pageLabels = synth.labels;
  stack = join(dir, 'stack.tif');
  const all = Buffer.concat(greyPages.map((p) => Buffer.from(p)));
  writeFileSync(stack, await sharp(all, { raw: { width: W, height: W * 3, channels: 1, pageHeight: W } }).toColourspace('b-w').tiff({ compression: 'lzw' }).toBuffer());
});

/** RFC 4180: quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

describe('a 3-page TIFF', () => {
  it('segment: 3 frames, outputs stack-p0000…; CSV and COCO tables for the run', async () => {
    const out = join(dir, 'seg');
    const segmenter = new BlobSegmenter();
    const tables = new RunTables({ csv: join(out, 'cells.csv'), coco: join(out, 'coco.json') });
    const results = await segmentFiles({ inputs: [stack], outDir: out, segmenter, knobsFor: () => segmenter.knobs.resolve({}), provenance: {}, pixelSizeNm: 650, tables });
    await tables.write();
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results.map((r) => r.outputs!.json.split('/').pop())).toEqual(['stack-p0000.json', 'stack-p0001.json', 'stack-p0002.json']);
    const records = results.map((r) => JSON.parse(readFileSync(r.outputs!.json, 'utf8')));
    expect(records[1].source).toBe(`${stack}#p0001`);
    expect(records[1].pixel_size_nm).toBe(650);
    expect(records[1].samstar_version).toMatch(/^\d+\.\d+\.\d+/);
    const counts = records.map((r) => r.count as number);
    expect(counts.every((c) => c > 0)).toBe(true);

    // CSV: documented columns, one row per instance, µm = px · 0.65.
    const rows = parseCsv(readFileSync(join(out, 'cells.csv'), 'utf8'));
    expect(rows[0]).toEqual(INSTANCE_COLUMNS.map(([name]) => name));
    expect(rows.length - 1).toBe(counts.reduce((a, b) => a + b, 0));
    const col = (name: string): number => rows[0].indexOf(name);
    for (const row of rows.slice(1)) {
      expect(row[col('frame')]).toMatch(/#p000[0-2]$/);
      expect(Number(row[col('area_um2')])).toBeCloseTo(Number(row[col('area_px2')]) * 0.65 * 0.65, 4);
      expect(Number(row[col('equivalent_diameter_um')])).toBeCloseTo(Number(row[col('equivalent_diameter_px')]) * 0.65, 4);
    }
    const frameRows = parseCsv(readFileSync(framesCsvPath(join(out, 'cells.csv')), 'utf8'));
    expect(frameRows[0]).toEqual(FRAME_COLUMNS.map(([name]) => name));
    expect(frameRows.slice(1).map((r) => Number(r[frameRows[0].indexOf('count')]))).toEqual(counts);

    // COCO: every annotation's RLE decodes to its mask: all pixels of its label in NAME.labels.png,
    // plus only pixels an overlapping instance won there (the smaller mask wins); area and bbox agree.
    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual(['stack.tif#p0000', 'stack.tif#p0001', 'stack.tif#p0002']);
    expect(coco.categories).toEqual([{ id: 1, name: 'object', supercategory: 'object' }]);
    expect(coco.info.samstar_version).toBe(records[0].samstar_version);
    expect(coco.annotations.length).toBe(rows.length - 1);
    for (const [i, result] of results.entries()) {
      const labels = await readLabelPng(result.outputs!.labels!);
      const anns = coco.annotations.filter((a: { image_id: number }) => a.image_id === i + 1);
      expect(anns.length).toBe(counts[i]);
      anns.forEach((a: { segmentation: { size: [number, number]; counts: number[] }; area: number; bbox: number[]; iscrowd: number; score: number }, k: number) => {
        const mask = decodeRle(a.segmentation);
        let area = 0;
        let [x0, y0, x1, y1] = [W, W, -1, -1];
        for (let p = 0; p < W * W; p++) {
          if (labels.data[p] === k + 1) expect(mask.data[p]).toBe(1);
          if (!mask.data[p]) continue;
          expect(labels.data[p]).not.toBe(0);
          area++;
          const x = p % W;
          const y = Math.floor(p / W);
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        }
        expect(a.area).toBe(area);
        expect(a.bbox).toEqual([x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
        expect(a.iscrowd).toBe(0);
        expect(a.score).toBeGreaterThanOrEqual(0);
      });
    }
  });

  it("a task's data.frames: 3 frames, labels matched as stack-p0001.png", async () => {
    const labels = join(dir, 'labels');
    mkdirSync(labels, { recursive: true });
    pageLabels.forEach((l, i) => copyFileSync(l, join(labels, `stack-p000${i}.png`)));
    const config = parseTaskConfig(
      { data: { frames: 'stack.tif', labels: 'labels', pixel_size: '0.65um' }, segmenter: { name: 'blobs', tune: ['blob_threshold'] }, reward: { terms: { coverage: { type: 'coverage' } }, total: 'coverage' }, agent: 'random', budget: 2 },
      { baseDir: dir },
    );
    const task = await resolveTask(config);
    expect(task.data.frames).toEqual([`${stack}#p0000`, `${stack}#p0001`, `${stack}#p0002`]);
    expect(task.data.labels).toEqual([0, 1, 2].map((i) => join(labels, `stack-p000${i}.png`)));
    expect(task.data.pixelSize).toBeCloseTo(650, 9);
  });

  it('watch: a stack dropped in the folder gives 3 frames', async () => {
    const watched = join(dir, 'in');
    mkdirSync(watched);
    copyFileSync(stack, join(watched, 'live.tif'));
    const frames: WatchFrameResult[] = [];
    const controller = new AbortController();
    const summary = await watchFolder({ dir: watched, out: join(dir, 'watch-out'), segmenter: new BlobSegmenter(), signal: controller.signal, existing: true, stableMs: 50, scanMs: 50, maxFrames: 3, onFrame: (r) => frames.push(r) });
    expect(frames.map((f) => f.file.split('/').pop())).toEqual(['live.tif#p0000', 'live.tif#p0001', 'live.tif#p0002']);
    expect(summary).toBeDefined();
  });
});

describe('multi-channel files in a batch', () => {
  it('a two-channel TIFF without --channel is reported, not half-read; with a channel it segments that channel', async () => {
    const page: TiffPage = { width: W, height: W, samples: 2, data: new Uint8Array(W * W * 2) };
    for (let p = 0; p < W * W; p++) (page.data as Uint8Array).set([0, greyPages[0][p]], 2 * p);
    const path = join(dir, 'two.tif');
    writeFileSync(path, encodeTiff([page], { extraSamples: [0] }));
    const segmenter = new BlobSegmenter();
    const knobsFor = () => segmenter.knobs.resolve({});
    const refused = await segmentFiles({ inputs: [path], outDir: join(dir, 'two-a'), segmenter, knobsFor, provenance: {} });
    expect(refused[0].ok).toBe(false);
    expect(refused[0].error).toContain('--channel');
    const [one] = await segmentFiles({ inputs: [path], outDir: join(dir, 'two-b'), segmenter, knobsFor, provenance: {}, channel: 1 });
    const single = join(dir, 'one.tif');
    writeFileSync(single, encodeTiff([{ width: W, height: W, samples: 1, data: greyPages[0] }]));
    const [grey] = await segmentFiles({ inputs: [single], outDir: join(dir, 'two-c'), segmenter, knobsFor, provenance: {} });
    expect(one.ok).toBe(true);
    expect(one.count).toBe(grey.count);
  });
});

describe('physical units from the file', () => {
  it("an OME-TIFF's PhysicalSizeX reaches measure and its table (µm columns)", async () => {
    const ome = `<OME><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="${W}" SizeY="${W}" SizeZ="1" SizeC="1" SizeT="1" PhysicalSizeX="0.5" PhysicalSizeY="0.5"/></Image></OME>`;
    const image = join(dir, 'one.ome.tif');
    writeFileSync(image, encodeTiff([{ width: W, height: W, samples: 1, data: greyPages[0] }], { description: ome }));
    const { measureLabelFile } = await import('../../src/measure/files.js');
    const m = await measureLabelFile(pageLabels[0], { image });
    expect(m.pixelSizeNm).toBe(500);
    const csv = join(dir, 'ome.csv');
    const tables = new RunTables({ csv });
    tables.addMeasured({ frame: image, measurements: m, pixelSizeNm: m.pixelSizeNm });
    await tables.write();
    const rows = parseCsv(readFileSync(csv, 'utf8'));
    const col = (name: string): number => rows[0].indexOf(name);
    expect(rows.length - 1).toBe(m.instances.length);
    rows.slice(1).forEach((row, i) => {
      expect(Number(row[col('pixel_size_nm')])).toBe(500);
      expect(Number(row[col('area_um2')])).toBeCloseTo(m.instances[i].area * 0.25, 6);
      expect(Number(row[col('centroid_col_um')])).toBeCloseTo(m.instances[i].centroid[1] * 0.5, 6);
    });
  });
});

describe('evaluate on a segment output folder', () => {
  it('pairs NAME.labels.png with the truth and skips NAME.overlay.png quietly', async () => {
    const out = join(dir, 'seg-eval');
    const segmenter = new BlobSegmenter();
    await segmentFiles({ inputs: [stack], outDir: out, segmenter, knobsFor: () => segmenter.knobs.resolve({}), provenance: {} });
    const truth = join(dir, 'truth-eval');
    mkdirSync(truth);
    pageLabels.forEach((l, i) => copyFileSync(l, join(truth, `stack-p000${i}.png`)));
    const { evaluateDirectories } = await import('../../src/measure/evaluate-dirs.js');
    const result = await evaluateDirectories(out, truth);
    expect(result.images.map((i) => i.name)).toEqual(['stack-p0000', 'stack-p0001', 'stack-p0002']);
    expect(result.unmatched).toEqual({ pred: [], truth: [] });
  });
});

describe('samstar measure text output with a pixel size', () => {
  it('adds µm columns and the pixel size line', async () => {
    const { measureLabelFile } = await import('../../src/measure/files.js');
    const { formatMeasurements } = await import('../../src/measure/format.js');
    const m = await measureLabelFile(pageLabels[0], { pixelSizeNm: 250 });
    const text = formatMeasurements(m);
    expect(text).toContain('pixel size 0.25 µm: 24.0 × 24.0 µm');
    expect(text).toContain('area µm²');
    const first = m.instances[0];
    expect(text).toContain((first.area * 0.0625).toFixed(3));
    expect(formatMeasurements({ ...m, pixelSizeNm: undefined })).not.toContain('µm');
  });
});
