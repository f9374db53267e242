import { LEVEL_COUNT, LEVEL_MIN, LEVEL_STEP, LEVEL_VALUES } from './levels.js';
import { LOW_RES, outputRange, upsampleWindow, type CropTaps, type Window } from './upsample.js';

/**
 * One decoder answer (one prompt, one mask token) reduced to what the filter
 * stage needs, so re-filtering never walks the logits again:
 * - `summary().counts[k]` = number of crop pixels with logit > levelValue(k),
 *   for every level k: stability and area at any (mask_threshold, offset) on the grid;
 * - `summary().rowMax` / `colMax` over the window: the mask's box at any threshold;
 * - the low-res logits under the window, to materialise the mask (only for
 *   masks that survive the filters) and to run the small-region rule.
 * Outside `window` every logit is ≤ LEVEL_MIN, i.e. below every threshold.
 *
 * The summary costs a pass over the upsampled window, which for a model whose
 * background logits stay above LEVEL_MIN is the whole crop. It is computed on
 * first use and kept: the filter stage drops most proposals by their predicted
 * IoU before it asks (on a dense 682×512 micrograph, 2426 of 3072), and a later
 * pass with a lower threshold computes the rest. The result is the same either way.
 */
export interface Proposal {
  readonly crop: number;
  /** Index of the prompt within its crop. */
  readonly prompt: number;
  /** Decoder mask token (1, 2 or 3). */
  readonly token: number;
  /** Predicted IoU as the decoder returned it (float32). */
  readonly iou: number;
  /** Prompt point in crop pixel coordinates. */
  readonly point: [number, number];
  readonly window: Window;
  /** Counts and row/column maxima, computed on the first call and kept (copies of a proposal share it). */
  readonly summary: () => ProposalSummary;
  /** Low-res logits covering every tap of the window. */
  readonly lowRes: { readonly x0: number; readonly y0: number; readonly w: number; readonly h: number; readonly data: Float32Array };
}

export interface ProposalSummary {
  readonly counts: Int32Array;
  readonly rowMax: Float64Array;
  readonly colMax: Float64Array;
}

const EMPTY_WINDOW: Window = { x0: 0, y0: 0, w: 0, h: 0 };

/** Bounding box of low-res pixels above LEVEL_MIN in one 256² plane, or null. */
function activeLowResBox(plane: Float32Array): [number, number, number, number] | null {
  let x0 = LOW_RES;
  let y0 = LOW_RES;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < LOW_RES; y++) {
    const row = y * LOW_RES;
    for (let x = 0; x < LOW_RES; x++) {
      if (plane[row + x] > LEVEL_MIN) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

export interface ProposalInput {
  readonly crop: number;
  readonly prompt: number;
  readonly token: number;
  readonly iou: number;
  readonly point: [number, number];
  /** The token's 256² low-res logits (row-major). */
  readonly plane: Float32Array;
}

const EMPTY_SUMMARY: ProposalSummary = { counts: new Int32Array(LEVEL_COUNT), rowMax: new Float64Array(0), colMax: new Float64Array(0) };

/** The proposal of one answer, given its window, low-res logits and summary. */
function proposalOf(input: ProposalInput, window: Window, lowRes: Proposal['lowRes'], summary: () => ProposalSummary): Proposal {
  return { crop: input.crop, prompt: input.prompt, token: input.token, iou: input.iou, point: input.point, window, summary, lowRes };
}

/** A proposal whose logits are ≤ LEVEL_MIN everywhere: area 0 at every threshold. */
function emptyProposal(input: ProposalInput): Proposal {
  return proposalOf(input, EMPTY_WINDOW, { x0: 0, y0: 0, w: 0, h: 0, data: new Float32Array(0) }, () => EMPTY_SUMMARY);
}

export function buildProposal(input: ProposalInput, taps: CropTaps): Proposal {
  const active = activeLowResBox(input.plane);
  if (!active) return emptyProposal(input);
  const xr = outputRange(taps.x, active[0], active[2]);
  const yr = outputRange(taps.y, active[1], active[3]);
  const window: Window = { x0: xr.start, y0: yr.start, w: xr.length, h: yr.length };
  if (window.w === 0 || window.h === 0) return emptyProposal(input);
  // Copy the low-res logits under every tap of the window.
  const lx0 = taps.x.lowest[window.x0];
  const lx1 = taps.x.highest[window.x0 + window.w - 1];
  const ly0 = taps.y.lowest[window.y0];
  const ly1 = taps.y.highest[window.y0 + window.h - 1];
  const lw = lx1 - lx0 + 1;
  const lh = ly1 - ly0 + 1;
  const data = new Float32Array(lw * lh);
  for (let y = 0; y < lh; y++) data.set(input.plane.subarray((ly0 + y) * LOW_RES + lx0, (ly0 + y) * LOW_RES + lx0 + lw), y * lw);
  const lowRes = { x0: lx0, y0: ly0, w: lw, h: lh, data };
  let summary: ProposalSummary | undefined;
  return proposalOf(input, window, lowRes, () => (summary ??= summarise(lowRes, taps, window)));
}

function summarise(lowRes: Proposal['lowRes'], taps: CropTaps, window: Window): ProposalSummary {
  const logits = upsampleWindow(lowRes.data, lowRes.w, lowRes.x0, lowRes.y0, taps, window);
  const rowMax = new Float64Array(window.h).fill(-Infinity);
  const colMax = new Float64Array(window.w).fill(-Infinity);
  // histogram[k + 1] = pixels whose highest level below them is k; suffix sums give counts.
  // The level is found arithmetically and then corrected by one comparison each way, so it
  // agrees exactly with `value > levelValue(k)` (what the direct path tests) at ~1 ns a pixel.
  const histogram = new Int32Array(LEVEL_COUNT + 1);
  const inverseStep = 1 / LEVEL_STEP;
  const top = LEVEL_COUNT - 1;
  for (let j = 0; j < window.h; j++) {
    const row = j * window.w;
    let rmax = -Infinity;
    for (let i = 0; i < window.w; i++) {
      const v = logits[row + i];
      if (v > rmax) rmax = v;
      if (v > colMax[i]) colMax[i] = v;
      if (!(v > LEVEL_MIN)) continue;
      let k = Math.floor((v - LEVEL_MIN) * inverseStep);
      if (k > top) k = top;
      if (k < top && v > LEVEL_VALUES[k + 1]) k++;
      else if (!(v > LEVEL_VALUES[k])) k--;
      histogram[k + 1]++;
    }
    rowMax[j] = rmax;
  }
  const counts = new Int32Array(LEVEL_COUNT);
  let running = 0;
  for (let k = LEVEL_COUNT - 1; k >= 0; k--) {
    running += histogram[k + 1];
    counts[k] = running;
  }
  return { counts, rowMax, colMax };
}

/** Approximate bytes a proposal holds once its summary is computed (for cache accounting: counted up front). */
export function proposalBytes(p: Proposal): number {
  return 200 + LEVEL_COUNT * 4 + (p.window.w + p.window.h) * 8 + p.lowRes.data.byteLength;
}
