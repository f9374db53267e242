import { readFile } from 'node:fs/promises';
import { SamstarError } from '../util/errors.js';
import { maxWeightMatching } from './assignment.js';
import type { InstanceMeasurement } from './types.js';

/**
 * Point/box ground truth (the STEM nanoparticle set has boxes only): YOLO text lines
 * `class cx cy w h`, normalised to [0, 1] by the image width and height. In pixels a box spans
 * continuous coordinates [x0, x1) × [y0, y1), where pixel column c covers [c, c + 1): a predicted
 * instance's centre is therefore (centroid_col + ½, centroid_row + ½) and its box
 * [min_col, max_col + 1) × [min_row, max_row + 1).
 */
export interface TruthBox {
  readonly cls: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface BoxTruth {
  readonly kind: 'boxes';
  readonly width: number;
  readonly height: number;
  readonly boxes: TruthBox[];
  readonly source?: string;
}

export function isBoxTruth(truth: unknown): truth is BoxTruth {
  return typeof truth === 'object' && truth !== null && (truth as BoxTruth).kind === 'boxes';
}

/** Parse YOLO lines for an image of width × height pixels. Blank lines and `#` comments are skipped. */
export function parseYoloBoxes(text: string, width: number, height: number, source = 'boxes'): BoxTruth {
  const boxes: TruthBox[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const at = `${source}:${i + 1}`;
    // A sixth column (a confidence, in prediction files) is tolerated and ignored.
    if (fields.length !== 5 && fields.length !== 6) {
      throw new SamstarError('LABELS_INVALID', `${at}: expected "class cx cy w h", got ${fields.length} fields: "${line}"`, {
        hint: 'YOLO box lines: class index, then centre x, centre y, width, height, all normalised to 0–1',
      });
    }
    const [cls, cx, cy, w, h] = fields.map(Number);
    const names = ['class', 'cx', 'cy', 'w', 'h'];
    [cls, cx, cy, w, h].forEach((v, k) => {
      if (!Number.isFinite(v)) throw new SamstarError('LABELS_INVALID', `${at}: ${names[k]} "${fields[k]}" is not a number`);
    });
    // Normalised values slightly outside [0, 1] occur at image edges; far outside means pixels were written.
    for (const [name, v] of [['cx', cx], ['cy', cy], ['w', w], ['h', h]] as const) {
      if (v < -0.01 || v > 1.01) {
        throw new SamstarError('LABELS_INVALID', `${at}: ${name} = ${v} is outside 0–1`, {
          hint: 'YOLO coordinates are normalised by the image size, not in pixels',
        });
      }
    }
    if (w <= 0 || h <= 0) throw new SamstarError('LABELS_INVALID', `${at}: box width and height must be > 0 (got ${w}, ${h})`);
    boxes.push({
      cls,
      x0: (cx - w / 2) * width,
      x1: (cx + w / 2) * width,
      y0: (cy - h / 2) * height,
      y1: (cy + h / 2) * height,
    });
  });
  return { kind: 'boxes', width, height, boxes, source };
}

export async function readYoloBoxes(path: string, width: number, height: number): Promise<BoxTruth> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SamstarError('IO_ERROR', `cannot read box file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseYoloBoxes(text, width, height, path);
}

export type BoxMatchOptions =
  | {
      /** Match when the predicted centre lies within maxDistance × (box mean half-size) of the box centre. */
      readonly match: 'center';
      readonly maxDistance: number;
      readonly diameter?: 'box' | 'equivalent';
    }
  | {
      /** Match when the IoU of the predicted box and the true box is ≥ minIou. */
      readonly match: 'box_iou';
      readonly minIou: number;
      readonly diameter?: 'box' | 'equivalent';
    };

export interface BoxScores {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /**
   * Mean over matched pairs of min(1, |d_pred − d_true| / d_true), with d_true = mean of the box's
   * width and height and d_pred the same for the predicted box (or its equivalent diameter).
   * 0 when there is nothing to find and nothing was found, 1 when nothing matched.
   */
  readonly diameter_error: number;
  /** Mean box IoU of the matched pairs. */
  readonly mean_iou: number;
  readonly matches: { pred: number; truth: number }[];
}

const CELL = 32;

function boxIou(ax0: number, ay0: number, ax1: number, ay1: number, b: TruthBox): number {
  const iw = Math.min(ax1, b.x1) - Math.max(ax0, b.x0);
  const ih = Math.min(ay1, b.y1) - Math.max(ay0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((ax1 - ax0) * (ay1 - ay0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

export function matchBoxes(instances: readonly InstanceMeasurement[], truth: BoxTruth, options: BoxMatchOptions): BoxScores {
  const boxes = truth.boxes;
  // Spatial grid over the truths' reach (where a matching prediction could be), so each
  // prediction only tests the few boxes near it.
  const reach = boxes.map((b) => {
    if (options.match === 'box_iou') return [b.x0, b.y0, b.x1, b.y1];
    const cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    const radius = options.maxDistance * ((b.x1 - b.x0) + (b.y1 - b.y0)) / 4;
    return [cx - radius, cy - radius, cx + radius, cy + radius];
  });
  const gridCols = Math.max(1, Math.ceil(truth.width / CELL));
  const gridRows = Math.max(1, Math.ceil(truth.height / CELL));
  const cellIndex = (v: number, n: number): number => Math.min(n - 1, Math.max(0, Math.floor(v / CELL)));
  const grid: number[][] = Array.from({ length: gridCols * gridRows }, () => []);
  reach.forEach(([x0, y0, x1, y1], t) => {
    for (let gy = cellIndex(y0, gridRows); gy <= cellIndex(y1, gridRows); gy++) {
      for (let gx = cellIndex(x0, gridCols); gx <= cellIndex(x1, gridCols); gx++) grid[gy * gridCols + gx].push(t);
    }
  });

  const pairPred: number[] = [], pairTruth: number[] = [], pairScore: number[] = [];
  const stamp = new Int32Array(boxes.length).fill(-1);
  instances.forEach((m, i) => {
    const [r0, c0, r1, c1] = m.bbox;
    const px = m.centroid[1] + 0.5, py = m.centroid[0] + 0.5;
    const [qx0, qy0, qx1, qy1] = options.match === 'box_iou' ? [c0, r0, c1, r1] : [px, py, px, py];
    for (let gy = cellIndex(qy0, gridRows); gy <= cellIndex(qy1, gridRows); gy++) {
      for (let gx = cellIndex(qx0, gridCols); gx <= cellIndex(qx1, gridCols); gx++) {
        for (const t of grid[gy * gridCols + gx]) {
          if (stamp[t] === i) continue;
          stamp[t] = i;
          const b = boxes[t];
          let score: number;
          if (options.match === 'box_iou') {
            const iou = boxIou(c0, r0, c1, r1, b);
            if (iou < options.minIou) continue;
            score = iou;
          } else {
            const radius = ((b.x1 - b.x0) + (b.y1 - b.y0)) / 4;
            const d = Math.hypot(px - (b.x0 + b.x1) / 2, py - (b.y0 + b.y1) / 2) / radius;
            if (d > options.maxDistance) continue;
            score = 1 - d / (options.maxDistance || 1);
          }
          pairPred.push(i);
          pairTruth.push(t);
          pairScore.push(score);
        }
      }
    }
  });

  const bonus = 1 / (2 * (Math.min(instances.length, boxes.length) + 1));
  const chosen = maxWeightMatching(
    {
      pred: Int32Array.from(pairPred),
      truth: Int32Array.from(pairTruth),
      weight: Float64Array.from(pairScore, (s) => 1 + bonus * s),
    },
    instances.length,
    boxes.length,
  );
  const matches = chosen.map((k) => ({ pred: pairPred[k], truth: pairTruth[k] }));
  const tp = matches.length;
  const fp = instances.length - tp;
  const fn = boxes.length - tp;
  const none = tp + fp + fn === 0;
  let errorSum = 0, iouSum = 0;
  for (const { pred, truth: t } of matches) {
    const m = instances[pred];
    const b = boxes[t];
    const [r0, c0, r1, c1] = m.bbox;
    const dTrue = ((b.x1 - b.x0) + (b.y1 - b.y0)) / 2;
    const dPred = options.diameter === 'equivalent' ? m.equivalent_diameter : ((c1 - c0) + (r1 - r0)) / 2;
    errorSum += Math.min(1, Math.abs(dPred - dTrue) / dTrue);
    iouSum += boxIou(c0, r0, c1, r1, b);
  }
  const score = (num: number, den: number): number => (none ? 1 : tp > 0 ? num / den : 0);
  return {
    tp,
    fp,
    fn,
    precision: score(tp, tp + fp),
    recall: score(tp, tp + fn),
    f1: score(2 * tp, 2 * tp + fp + fn),
    diameter_error: none ? 0 : tp > 0 ? errorSum / tp : 1,
    mean_iou: score(iouSum, tp),
    matches,
  };
}
