import { join } from 'node:path';
import { frameRefStem } from '../image/frame-ref.js';
import type { Frame } from '../image/frame.js';
import { writeOverlayPng } from '../image/overlay.js';
import { masksToLabelImage } from '../masks/label-image.js';
import { labelPngOmitted, MAX_PNG_LABEL, writeLabelPng } from '../masks/label-png.js';
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
  /** Absent when the frame has more instances than a 16-bit PNG can label (`labels_png` in the record says why). */
  readonly labels?: string;
  readonly json: string;
  readonly overlay: string;
}

/**
 * Write the outputs of one frame, each atomically: the records with the knobs and model
 * provenance (first: they hold every mask as RLE, so nothing computed is lost whatever follows),
 * 16-bit instance labels (where masks overlap the smaller one wins), and outlines over the image.
 * A frame with more than 65 535 instances gets no label PNG: its record says so, and its masks are
 * in the record.
 */
export async function writeSegmentationOutputs(outDir: string, frame: Frame, segmentation: Segmentation, provenance: Record<string, unknown>): Promise<OutputPaths> {
  const stem = outputStem(frame.source);
  const labelsPath = join(outDir, `${stem}.labels.png`);
  const json = join(outDir, `${stem}.json`);
  const overlay = join(outDir, `${stem}.overlay.png`);
  const count = segmentation.instances.length;
  const fitsPng = count <= MAX_PNG_LABEL;
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
    count,
    ...(fitsPng ? {} : { labels_png: labelPngOmitted(count, 'written') }),
    instances: segmentation.instances,
  };
  await writeFileAtomic(json, JSON.stringify(record) + '\n');
  const labels = segmentationLabels(segmentation);
  if (fitsPng) await writeLabelPng(labelsPath, labels);
  await writeOverlayPng(overlay, frame, labels);
  return fitsPng ? { labels: labelsPath, json, overlay } : { json, overlay };
}
