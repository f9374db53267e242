import { join } from 'node:path';
import { frameRefStem } from '../image/frame-ref.js';
import type { Frame } from '../image/frame.js';
import { writeOverlayPng } from '../image/overlay.js';
import { masksToLabelImage } from '../masks/label-image.js';
import { writeLabelPng } from '../masks/label-png.js';
import type { LabelImage } from '../masks/types.js';
import type { Segmentation } from '../segmenters/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { packageVersion } from '../util/package-root.js';

/** NAME of NAME.labels.png / NAME.json / NAME.overlay.png for an input path or frame reference (stack.tif#t0003 → stack-t0003). */
export function outputStem(path: string): string {
  return frameRefStem(path);
}

export function segmentationLabels(segmentation: Segmentation): LabelImage {
  return masksToLabelImage(
    segmentation.instances.map((i) => i.segmentation),
    segmentation.width,
    segmentation.height,
  );
}

export interface OutputPaths {
  readonly labels: string;
  readonly json: string;
  readonly overlay: string;
}

/**
 * Write the three outputs of one frame, each atomically: 16-bit instance labels
 * (where masks overlap the smaller one wins), the records with the knobs and
 * model provenance, and outlines over the image.
 */
export async function writeSegmentationOutputs(outDir: string, frame: Frame, segmentation: Segmentation, provenance: Record<string, unknown>): Promise<OutputPaths> {
  const stem = outputStem(frame.source);
  const paths: OutputPaths = {
    labels: join(outDir, `${stem}.labels.png`),
    json: join(outDir, `${stem}.json`),
    overlay: join(outDir, `${stem}.overlay.png`),
  };
  const labels = segmentationLabels(segmentation);
  await writeLabelPng(paths.labels, labels);
  const record = {
    samstar_version: packageVersion(),
    source: frame.source,
    width: frame.width,
    height: frame.height,
    ...(frame.pixelSizeNm !== undefined ? { pixel_size_nm: frame.pixelSizeNm } : {}),
    frame_sha256: frame.hash,
    ...provenance,
    knobs: segmentation.knobs,
    timings_ms: segmentation.timings,
    stats: segmentation.stats ?? {},
    count: segmentation.instances.length,
    instances: segmentation.instances,
  };
  await writeFileAtomic(paths.json, JSON.stringify(record) + '\n');
  await writeOverlayPng(paths.overlay, frame, labels);
  return paths;
}
