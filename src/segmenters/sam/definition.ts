import { defineSegmenter } from '../definition.js';
import type { Segmenter } from '../types.js';
import { samKnobSpace } from './knob-specs.js';
import type { SamSegmenter } from './segmenter.js';

/**
 * `sam`: the automatic mask generator on a promptable model's ONNX files (SAM,
 * MobileSAM, …), or on the bundled samstar-learned model (SAM's I/O contract,
 * not SAM) when no files are given. The model code (onnxruntime) loads only
 * when a segmenter is built, so that the registry stays cheap to import (the
 * CLI lists the segmenter names in every command's help).
 */
export const sam = defineSegmenter({
  name: 'sam',
  description: "automatic mask generator on a promptable model's ONNX files (default: the bundled samstar-learned model)",
  knobSpace: samKnobSpace,
  usesModel: true,
  defaultTune: ['pred_iou_thresh', 'stability_score_thresh', 'box_nms_thresh'],
  example: { points_per_side: 16, pred_iou_thresh: 0.8, stability_score_thresh: 0.8 },
  load: async (options) => (await import('../load-segmenter.js')).loadSamSegmenter(options),
  rebuildOptions: (segmenter) => {
    if (!isSamSegmenter(segmenter)) return undefined;
    const { files, device, intraOpThreads } = segmenter.model;
    return { encoder: files.encoder, decoder: files.decoder, device, intraOpThreads };
  },
});

/** A SamSegmenter, recognised by its loaded model (an instanceof check would load onnxruntime with this file). */
function isSamSegmenter(segmenter: Segmenter): segmenter is SamSegmenter {
  const model = (segmenter as Partial<SamSegmenter>).model;
  return segmenter.name === 'sam' && typeof model?.files?.encoder === 'string' && typeof model.files.decoder === 'string';
}
