import { labelComponents } from '../../masks/components.js';
import type { BoxXYXY } from '../../masks/types.js';
import type { Window } from './upsample.js';

/**
 * A binary mask known only on a window of the image: every pixel outside the
 * window is background. Keeps the small-region rule at the cost of the window,
 * not of the whole image.
 */
export interface WindowMask {
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** In image coordinates. */
  readonly window: Window;
  /** window.w × window.h, row-major, 1 = mask. */
  readonly data: Uint8Array;
}

export interface SmallRegionResult {
  /** True when holes were filled or islands removed (SAM then scores the mask 0 in the follow-up NMS). */
  readonly changed: boolean;
  readonly mask: WindowMask;
}

/** Copy a window mask into a full-image window (the rare case the window trick can't answer). */
export function expandToImage(mask: WindowMask): WindowMask {
  const { imageWidth: W, imageHeight: H, window: win } = mask;
  if (win.x0 === 0 && win.y0 === 0 && win.w === W && win.h === H) return mask;
  const data = new Uint8Array(W * H);
  for (let j = 0; j < win.h; j++) data.set(mask.data.subarray(j * win.w, (j + 1) * win.w), (win.y0 + j) * W + win.x0);
  return { imageWidth: W, imageHeight: H, window: { x0: 0, y0: 0, w: W, h: H }, data };
}

/**
 * segment-anything's remove_small_regions, "holes" then "islands", with
 * 8-connectivity: fill background components smaller than `area`, then remove
 * mask components smaller than `area`, keeping the largest when all are small.
 *
 * The background outside the window is one connected region (guaranteed by
 * expanding windows that span the image's full width or height), represented by
 * a one-pixel ring around the window whose component also owns the outside area.
 */
export function removeSmallRegions(input: WindowMask, area: number): SmallRegionResult {
  let mask = input;
  const W = mask.imageWidth;
  const H = mask.imageHeight;
  const spansWidth = mask.window.x0 === 0 && mask.window.w === W;
  const spansHeight = mask.window.y0 === 0 && mask.window.h === H;
  if (spansWidth !== spansHeight) mask = expandToImage(mask);

  const holes = fillSmallHoles(mask, area);
  if (holes === 'outside-is-small') return removeSmallRegions(expandToImage(mask), area);
  const islands = removeSmallIslands(holes.mask, area);
  return { changed: holes.changed || islands.changed, mask: islands.mask };
}

function fillSmallHoles(mask: WindowMask, area: number): { changed: boolean; mask: WindowMask } | 'outside-is-small' {
  const { window: win, imageWidth: W, imageHeight: H } = mask;
  const pw = win.w + 2;
  const ph = win.h + 2;
  const background = new Uint8Array(pw * ph);
  for (let j = -1; j <= win.h; j++) {
    for (let i = -1; i <= win.w; i++) {
      const inside = i >= 0 && j >= 0 && i < win.w && j < win.h;
      const x = win.x0 + i;
      const y = win.y0 + j;
      const value = inside ? (mask.data[j * win.w + i] ? 0 : 1) : x >= 0 && y >= 0 && x < W && y < H ? 1 : 0;
      background[(j + 1) * pw + (i + 1)] = value;
    }
  }
  const comps = labelComponents(background, pw, ph, 8);
  const areas = Float64Array.from(comps.areas);
  // The ring's component owns all of the outside; ring pixels count as outside, not twice.
  const outsideArea = W * H - win.w * win.h;
  let outsideLabel = 0;
  let ringPixels = 0;
  for (let p = 0; p < pw * ph; p++) {
    const i = (p % pw) - 1;
    const j = Math.floor(p / pw) - 1;
    const ring = i < 0 || j < 0 || i >= win.w || j >= win.h;
    if (ring && comps.labels[p] !== 0) {
      outsideLabel = comps.labels[p];
      ringPixels++;
    }
  }
  if (outsideLabel !== 0) {
    areas[outsideLabel] = areas[outsideLabel] - ringPixels + outsideArea;
    if (areas[outsideLabel] < area) return 'outside-is-small';
  }
  let changed = false;
  const small = new Uint8Array(comps.count + 1);
  for (let l = 1; l <= comps.count; l++) {
    if (areas[l] < area) {
      small[l] = 1;
      changed = true;
    }
  }
  if (!changed) return { changed: false, mask };
  const data = mask.data.slice();
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      if (small[comps.labels[(j + 1) * pw + (i + 1)]]) data[j * win.w + i] = 1;
    }
  }
  return { changed: true, mask: { ...mask, data } };
}

function removeSmallIslands(mask: WindowMask, area: number): { changed: boolean; mask: WindowMask } {
  const { window: win } = mask;
  const comps = labelComponents(mask.data, win.w, win.h, 8);
  let anySmall = false;
  for (let l = 1; l <= comps.count; l++) if (comps.areas[l] < area) anySmall = true;
  if (!anySmall) return { changed: false, mask };
  const keep = new Uint8Array(comps.count + 1);
  let kept = 0;
  for (let l = 1; l <= comps.count; l++) {
    if (comps.areas[l] >= area) {
      keep[l] = 1;
      kept++;
    }
  }
  if (kept === 0) {
    // Every island is small: keep the largest (the first one on ties, as numpy's argmax).
    let best = 1;
    for (let l = 2; l <= comps.count; l++) if (comps.areas[l] > comps.areas[best]) best = l;
    keep[best] = 1;
  }
  const data = new Uint8Array(win.w * win.h);
  for (let p = 0; p < data.length; p++) data[p] = keep[comps.labels[p]];
  return { changed: true, mask: { ...mask, data } };
}

/** Inclusive XYXY box of a window mask in image coordinates; (0,0,0,0) when empty (SAM's convention). */
export function windowMaskBox(mask: WindowMask): BoxXYXY {
  const { window: win, data } = mask;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let j = 0; j < win.h; j++) {
    for (let i = 0; i < win.w; i++) {
      if (!data[j * win.w + i]) continue;
      if (i < x0) x0 = i;
      if (i > x1) x1 = i;
      if (j < y0) y0 = j;
      y1 = j;
    }
  }
  if (x1 < 0) return [0, 0, 0, 0];
  return [win.x0 + x0, win.y0 + y0, win.x0 + x1, win.y0 + y1];
}

export function windowMaskArea(mask: WindowMask): number {
  let n = 0;
  for (let p = 0; p < mask.data.length; p++) n += mask.data[p];
  return n;
}
