// Decoder of the samstar reference segmenter (samstar-ref; NOT SAM), with the SAM 1 ONNX decoder I/O
// contract. It cuts the encoder's context maps in a 128² window around the click and turns the
// click into four logit maps (adaptive threshold ∧ distance prior), a predicted IoU per map
// (contrast across the mask border), and `masks` at orig_im_size via the official
// Resize→Slice→Resize chain. Formulas and reasons: README.md.
import { attr, GraphBuilder, serializeModel } from './onnx-builder.js';
import { BLOCK, MAP, MAP_CHANNELS } from './encoder-graph.js';

/**
 * Hand-set constants (no learned weights). Token order follows SAM: 0 = single-mask answer, 1..3 =
 * multimask outputs of growing extent (part → whole particle → particle plus neighbourhood).
 */
export const DECODER_PARAMS = {
  /** Logit per noise σ: L = gain · (contrast − threshold) / σ. Sets how steep real edges are. */
  gain: 2,
  /**
   * Steepness stops growing above this contrast-to-noise ratio, so logits stay within ±gain·this and
   * are not clipped near the mask border (clipping would move the upsampled 0-contour to pixel edges).
   */
  cnrSaturation: 10,
  /** Fraction of the clicked contrast (pixel vs local background) a pixel needs, per token. */
  threshold: [0.5, 0.75, 0.5, 0.2],
  /** Distance-prior radius per token, r = a·R + b in 256² px, R = estimated particle radius. */
  radiusScale: [1.4, 0.5, 1.4, 2.5],
  radiusOffset: [3, 0.5, 3, 5],
  /** The particle radius estimate is capped so the widest prior (+10 px to reach −clip) fits the window. */
  maxRadius: 20,
  /** Logit per 256² px of the distance prior k·(r − d); it caps the similarity logit (min). */
  distanceSlope: 2,
  /** The clicked contrast counts as at least this many σ, so a background click gets a noise-level threshold. */
  contrastFloor: 3,
  /** Beyond r_k + this (256² px) the logits fall with the distance slope whatever the steepness scaling. */
  farMargin: 2,
  /** Logits are clipped to ±this; everything outside the window is −this. */
  logitClip: 20,
  /** Weight of mask_input when has_mask_input = 1 (the low-res logits are averaged). */
  maskInputWeight: 0.5,
  /** Scale estimate: Gaussian windows σ_j = s0 · step^j, j < count (σ up to 32 px). */
  scaleSigma0: 0.5,
  scaleStep: Math.SQRT2,
  scaleCount: 13,
  /** confidence = clip(gain · (1 − fill of the widest window), min, 1) scales logits and IoU. */
  boundedGain: 1.4,
  minConfidence: 0.1,
  /** Predicted IoU = sigmoid(slope·(z − z0)) · ρ^γ · e · sigmoid(L_click) · confidence · (1 − e^(−n/n0)), see predictIou. */
  iouSlope: 1.5,
  iouZ0: 2.5,
  iouGamma: 0.5,
  iouMinPixels: 2,
} as const;

const P = DECODER_PARAMS;
const NTOK = 4;
/** Side of the working window at 256²; 128 px = 512 px in the 1024 frame. */
const WIN = 128;

const f2i = (g: GraphBuilder, x: string) => g.op('Cast', [x], { to: attr.i(7) });

/** Index of the prompt point: first label-1 point, else the first point that is not padding (−1). */
function promptPoint(g: GraphBuilder, coords: string, labels: string): { px: string; py: string } {
  const fg = g.op('Cast', [g.op('Equal', [labels, g.scalar(1)])], { to: attr.i(1) });
  const real = g.op('Cast', [g.op('Not', [g.op('Equal', [labels, g.scalar(-1)])])], { to: attr.i(1) });
  const score = g.op('Add', [g.op('Mul', [fg, g.scalar(2)]), real]);
  const idx = g.op('ArgMax', [score], { axis: attr.i(1), keepdims: attr.i(0) }); // first maximum
  const pt = g.op('Reshape', [g.op('Gather', [coords, idx], { axis: attr.i(1) }), g.ints([2])]);
  const [px, py] = g.opN('Split', [pt, g.ints([1, 1])], { axis: attr.i(0) }, 2);
  return { px: px!, py: py! };
}

interface Window {
  /** dPos, dNeg, invNoise inside the window, each [1, 1, WIN, WIN]. */
  maps: string[];
  /** The same three maps at the click cell, each [1]. */
  atClick: string[];
  /** Window origin at 256² as float [1] and as int64 [2] (y0, x0). */
  x0: string;
  y0: string;
  starts: string;
  /** Click cell inside the window (flat int64 index [1]) and continuous position (float [1]). */
  flat: string;
  u: string;
  v: string;
}

/**
 * The 128² window around the click (clamped inside the image), cut from the embedding: reshaped to
 * [16, 256, 256] the embedding is the stack of maps (see encoder-graph.ts), so each map's window is
 * one Slice and its value at the click another.
 */
function clickWindow(g: GraphBuilder, emb: string, px: string, py: string): Window {
  const cell = (p: string) => g.op('Clip', [g.op('Floor', [g.op('Mul', [p, g.scalar(1 / BLOCK)])]), g.scalar(0), g.scalar(MAP - 1)]);
  const origin = (c: string) => g.op('Clip', [g.op('Sub', [c, g.scalar(WIN / 2)]), g.scalar(0), g.scalar(MAP - WIN)]);
  const cx = cell(px);
  const cy = cell(py);
  const x0 = origin(cx);
  const y0 = origin(cy);
  const starts = f2i(g, g.op('Concat', [y0, x0], { axis: attr.i(0) }));
  const cellAt = f2i(g, g.op('Concat', [cy, cx], { axis: attr.i(0) }));
  const stack = g.op('Reshape', [emb, g.ints([256 / MAP_CHANNELS, 1, MAP, MAP])]);
  const maps: string[] = [];
  const atClick: string[] = [];
  for (let m = 0; m < 3; m++) {
    const at = (k: number, yx: string) => g.op('Concat', [g.ints([k]), yx], { axis: attr.i(0) });
    const axes = g.ints([0, 2, 3]);
    maps.push(g.op('Slice', [stack, at(m, starts), at(m + 1, g.op('Add', [starts, g.ints([WIN, WIN])])), axes]));
    const one = g.op('Slice', [stack, at(m, cellAt), at(m + 1, g.op('Add', [cellAt, g.ints([1, 1])])), axes]);
    atClick.push(g.op('Reshape', [one, g.ints([1])]));
  }
  const local = g.op('Add', [g.op('Mul', [g.op('Sub', [cy, y0]), g.scalar(WIN)]), g.op('Sub', [cx, x0])]);
  // Continuous click position in window pixels (pixel k covers [4k, 4k+4) in the 1024 frame).
  const cont = (p: string, o: string) => g.op('Sub', [g.op('Mul', [p, g.scalar(1 / BLOCK)]), g.op('Add', [o, g.scalar(0.5)])]);
  return { maps, atClick, x0, y0, starts, flat: f2i(g, local), u: cont(px, x0), v: cont(py, y0) };
}

/**
 * Particle radius R (256² px) around the click from the fill fraction f_j of the foreground F in
 * Gaussian windows of growing σ_j: for a disk f = 1 − exp(−R²/2σ²), which is ½ at σ = R/1.1774.
 * n counts the windows passed before the first one under half full (soft cumulative product).
 * Also returns how bounded the clicked structure is: 1 − f in the widest window (σ = 32 px) is near
 * 1 for a particle and near 0 for a region that goes on (background between particles, say).
 */
function estimateRadius(g: GraphBuilder, fg: string, u: string, v: string): { radius: string; openness: string } {
  const sig = Array.from({ length: P.scaleCount }, (_, j) => P.scaleSigma0 * P.scaleStep ** j);
  const coef = g.const(sig.map((s) => -1 / (2 * s * s)), [1, P.scaleCount], 'float', 'gaussCoef');
  const pos = g.const(Array.from({ length: WIN }, (_, k) => k), [WIN, 1], 'float', 'pos');
  const gauss = (c: string) => {
    const d = g.op('Sub', [pos, c]);
    return g.op('Exp', [g.op('Mul', [g.op('Mul', [d, d]), coef])]); // [WIN, J]
  };
  const gx = gauss(u);
  const gy = gauss(v);
  const sum0 = (x: string) => g.op('ReduceSum', [x, g.ints([0])], { keepdims: attr.i(0) });
  const rows = g.op('MatMul', [g.op('Reshape', [fg, g.ints([WIN, WIN])]), gx]); // [y, J]
  const fill = g.op('Div', [sum0(g.op('Mul', [rows, gy])), g.op('Mul', [sum0(gx), sum0(gy)])]);
  // log sigmoid(12(f − ½)) = −softplus(12(½ − f)); cumulative sum of logs = log of cumulative product.
  const logq = g.op('Neg', [g.op('Softplus', [g.op('Mul', [g.op('Sub', [g.scalar(0.5), fill]), g.scalar(12)])])]);
  const passed = g.op('ReduceSum', [g.op('Exp', [g.op('CumSum', [logq, g.const([0], [], 'int64', 'axis')])])], { keepdims: attr.i(0) });
  // R = 1.1774 · σ0 · step^(n − ½): the crossing lies between the last window passed and the next.
  const logR = g.op('Add', [
    g.scalar(Math.log(1.1774 * P.scaleSigma0) - 0.5 * Math.log(P.scaleStep)),
    g.op('Mul', [passed, g.scalar(Math.log(P.scaleStep))]),
  ]);
  const widest = g.op('Gather', [fill, g.const([P.scaleCount - 1], [], 'int64', 'last')], { axis: attr.i(0) });
  return { radius: g.op('Min', [g.op('Exp', [logR]), g.scalar(P.maxRadius)]), openness: widest };
}

/**
 * Predicted IoU of each token's mask M = {L > 0}, from the contrast D (clipped to [0, C] so that a
 * few very bright neighbours cannot dominate) inside M versus a ring 2 px outside it (skipping the
 * first, partial-volume pixel):
 *   step = mean(D | M) − mean(D | ring),  z = step / σ,  ρ = step / C,
 *   e    = share of the ring that the image itself calls outside (similarity logit < 0),
 *   iou  = sigmoid(a·(z − z0)) · ρ^γ · e · sigmoid(L at the click) · confidence · (1 − exp(−n/n0)).
 * z says whether the border is a visible edge at all (low for masks cut through noise or smooth
 * background), ρ whether it is the clicked object's edge (low for a core inside the particle or a
 * neighbourhood around it), e how much of the border is a real edge rather than a cut made by the
 * distance prior, sigmoid(L at the click) asks the mask to contain its own prompt, and confidence
 * (see buildDecoder) is low when the clicked structure has no boundary within reach; the last
 * factor discounts masks of only a few 256² pixels (n), whose upsampled outline cannot be accurate.
 */
function predictIou(
  g: GraphBuilder, logits: string, sim: string, dm: string, contrast: string, invNoiseC: string, flat: string, confidence: string,
): { iou: string; edge: string } {
  const inside = g.op('Cast', [g.op('Greater', [logits, g.scalar(0)])], { to: attr.i(1) });
  const pool3 = (x: string) => g.op('MaxPool', [x], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  const dil3 = pool3(inside);
  const ring = g.op('Sub', [pool3(dil3), dil3]);
  const d = g.op('Reshape', [g.op('Clip', [dm, g.scalar(0), contrast]), g.ints([WIN * WIN, 1])]);
  const sums = (m: string) => {
    const flatM = g.op('Reshape', [m, g.ints([NTOK, WIN * WIN])]);
    const n = g.op('ReduceSum', [flatM, g.ints([1])], { keepdims: attr.i(1) });
    return { n, mean: g.op('Div', [g.op('MatMul', [flatM, d]), g.op('Max', [n, g.scalar(1)])]) }; // [4, 1]
  };
  const a = sums(inside);
  const b = sums(ring);
  const step = g.op('Sub', [a.mean, b.mean]);
  const z = g.op('Mul', [step, invNoiseC]);
  const visible = g.op('Sigmoid', [g.op('Mul', [g.op('Sub', [z, g.scalar(P.iouZ0)]), g.scalar(P.iouSlope)])]);
  const rho = g.op('Clip', [g.op('Div', [step, contrast]), g.scalar(0), g.scalar(1)]);
  const outside = g.op('Cast', [g.op('Less', [sim, g.scalar(0)])], { to: attr.i(1) });
  const ringOut = g.op('ReduceSum', [g.op('Reshape', [g.op('Mul', [ring, outside]), g.ints([NTOK, WIN * WIN])]), g.ints([1])], { keepdims: attr.i(1) });
  const edge = g.op('Div', [ringOut, g.op('Max', [b.n, g.scalar(1)])]);
  const atClick = g.op('Gather', [g.op('Reshape', [logits, g.ints([NTOK, WIN * WIN])]), flat], { axis: attr.i(1) }); // [4, 1]
  // Masks of a few 256² pixels cannot be accurate after upsampling: 1 − exp(−n / n0).
  const resolvable = g.op('Sub', [g.scalar(1), g.op('Exp', [g.op('Mul', [a.n, g.scalar(-1 / P.iouMinPixels)])])]);
  const terms = [g.op('Pow', [rho, g.scalar(P.iouGamma)]), edge, g.op('Sigmoid', [atClick]), confidence, resolvable];
  const iou = terms.reduce((acc, t) => g.op('Mul', [acc, t]), visible);
  return { iou: g.op('Reshape', [iou, g.ints([1, NTOK])], {}, 'iou_predictions'), edge };
}

export interface DecoderOptions {
  /** How `masks` is computed from low_res_masks (same values either way); default 'taps'. */
  masksPath?: MasksPath;
  /** Adds outputs `diag_radius`, `diag_confidence`, `diag_contrast`, `diag_bright` (for tuning; not part of the contract). */
  diagnostics?: boolean;
}

export const DECODER_DOC =
  'samstar reference segmenter (samstar-ref) decoder: a small hand-written promptable segmenter that ' +
  'follows the SAM 1 ONNX I/O contract so pipelines, tests and demos run without downloaded weights. ' +
  'It has no learned weights; see src/segmenters/reference/README.md';

export function buildDecoder(options: DecoderOptions = {}): Uint8Array {
  const g = new GraphBuilder();
  const emb = g.input('image_embeddings', 'float', [1, 256, 64, 64]);
  const coords = g.input('point_coords', 'float', [1, 'num_points', 2]);
  const labels = g.input('point_labels', 'float', [1, 'num_points']);
  const maskIn = g.input('mask_input', 'float', [1, 1, 256, 256]);
  const hasMask = g.input('has_mask_input', 'float', [1]);
  const orig = g.input('orig_im_size', 'float', [2]);

  const { px, py } = promptPoint(g, coords, labels);
  const w = clickWindow(g, emb, px, py);
  const [dPos, dNeg, invNoise] = w.maps;
  const [dPosC, dNegC, invNoiseC] = w.atClick;

  // Polarity: a bright particle when the click stands out more above the opening than below the closing.
  const bright = g.op('GreaterOrEqual', [dPosC!, dNegC!]);
  const dm = g.op('Where', [bright, dPos!, dNeg!]); // contrast towards the clicked polarity, per pixel
  const contrast = g.op('Max', [g.op('Max', [dPosC!, dNegC!]), g.op('Div', [g.scalar(P.contrastFloor), invNoiseC!])]);
  const cnrCap = g.op('Div', [g.scalar(P.cnrSaturation), contrast]);
  const steep = g.op('Mul', [g.op('Min', [invNoise!, cnrCap]), g.scalar(P.gain)]);

  // Similarity: a pixel belongs when its contrast exceeds θ_k of the clicked contrast; in σ units.
  const thr = g.op('Mul', [g.const(P.threshold, [1, NTOK, 1, 1], 'float', 'theta'), contrast]);
  const sim = g.op('Mul', [g.op('Sub', [dm, thr]), steep]);
  const sim0 = g.op('Mul', [g.op('Sub', [dm, g.op('Mul', [contrast, g.scalar(P.threshold[0])])]), steep]);
  const { radius, openness } = estimateRadius(g, g.op('Sigmoid', [sim0]), w.u, w.v);
  // Confidence: an unbounded region (fill of the widest window ≥ ~0.8) gets shallow logits (low
  // stability) and a low predicted IoU; particles up to R ≈ 25 px keep confidence 1.
  const confidence = g.op('Clip', [g.op('Mul', [g.op('Sub', [g.scalar(1), openness]), g.scalar(P.boundedGain)]), g.scalar(P.minConfidence), g.scalar(1)]);

  // Distance prior k·(r_k − d) caps the similarity; radius from the particle size estimate.
  const k = P.distanceSlope;
  const pos = (shape: number[]) => g.const(Array.from({ length: WIN }, (_, i) => i * k), shape, 'float', 'pos');
  const dx = g.op('Sub', [pos([1, WIN]), g.op('Mul', [w.u, g.scalar(k)])]);
  const dy = g.op('Sub', [pos([WIN, 1]), g.op('Mul', [w.v, g.scalar(k)])]);
  const dist = g.op('Sqrt', [g.op('Add', [g.op('Mul', [dx, dx]), g.op('Mul', [dy, dy])])]);
  const rk = g.op('Add', [
    g.op('Mul', [g.const(P.radiusScale.map((a) => a * k), [1, NTOK, 1, 1], 'float', 'rScale'), radius]),
    g.const(P.radiusOffset.map((b) => b * k), [1, NTOK, 1, 1], 'float', 'rOffset'),
  ]);
  let logits = g.op('Clip', [g.op('Min', [sim, g.op('Sub', [rk, dist])]), g.scalar(-P.logitClip), g.scalar(P.logitClip)]);

  // Mask prompt: average with the given low-res logits inside the window.
  const a = g.op('Mul', [hasMask, g.scalar(P.maskInputWeight)]);
  const maskWin = g.op('Slice', [maskIn, w.starts, g.op('Add', [w.starts, g.ints([WIN, WIN])]), g.ints([2, 3])]);
  logits = g.op('Add', [g.op('Mul', [logits, g.op('Sub', [g.scalar(1), a])]), g.op('Mul', [maskWin, a])]);

  const { edge } = predictIou(g, logits, sim, dm, contrast, invNoiseC!, w.flat, confidence);

  // Steepness follows the evidence: a mask whose border is mostly a cut made by the distance prior
  // (edge share e small), or that sits in an unbounded region, gets proportionally shallower logits,
  // so its stability score drops; the mask itself (L > 0) does not change.
  const steepness = g.op('Mul', [g.op('Max', [edge, g.scalar(P.minConfidence)]), confidence]);
  logits = g.op('Mul', [logits, g.op('Reshape', [steepness, g.ints([1, NTOK, 1, 1])])]);
  // Far from the prior radius the answer stays "certainly not", however shallow the scaling made
  // the logits: a real SAM decoder is strongly negative away from its mask, and the host pipeline
  // relies on that (it summarises each mask over the region where logits exceed −5). Where the
  // mask is (L > 0, so d < r_k) the cap is ≥ slope·margin and changes nothing.
  const farCap = g.op('Sub', [g.op('Add', [rk, g.scalar(k * P.farMargin)]), dist]);
  logits = g.op('Max', [g.op('Min', [logits, farCap]), g.scalar(-P.logitClip)]);

  // Back to the full 256² frame: outside the window the answer is "certainly not" (−clip).
  const after = g.op('Sub', [g.ints([MAP - WIN, MAP - WIN]), w.starts]);
  const pads = g.op('Concat', [g.ints([0, 0]), w.starts, g.ints([0, 0]), after], { axis: attr.i(0) });
  const low = g.op('Pad', [logits, pads, g.scalar(-P.logitClip)], {}, 'low_res_masks');
  masksFromLowRes(g, { low, win: logits, x0: w.x0, y0: w.y0 }, orig, options.masksPath ?? 'taps');

  g.output('masks', 'masks', 'float', [1, NTOK, 'H', 'W']);
  g.output('iou_predictions', 'iou_predictions', 'float', [1, NTOK]);
  g.output(low, 'low_res_masks', 'float', [1, NTOK, MAP, MAP]);
  if (options.diagnostics) {
    g.output(radius, 'diag_radius', 'float', [1]);
    g.output(confidence, 'diag_confidence', 'float', [1]);
    g.output(contrast, 'diag_contrast', 'float', [1]);
    g.output(bright, 'diag_bright', 'bool', [1]);
  }
  return serializeModel(g.graph('samstar_ref_decoder'), {
    producerName: 'samstar',
    producerVersion: 'samstar-ref-1',
    docString: DECODER_DOC,
    opset: 17,
  });
}

// ---------------------------------------------------------------------------------------------
// `masks` from `low_res_masks`, exactly as the official SAM export does it:
//   Resize 256² → 1024² (bilinear, half_pixel = PyTorch align_corners=False, no antialias),
//   Slice to the pre-padded size (h', w'), Resize to (H, W) (bilinear, half_pixel).
// 'literal' writes those three ops. 'taps' computes the same numbers without the 1024² intermediate:
// output row y reads 1024-frame row c1 = clip((y+½)·h'/H − ½, 0, h'−1) bilinearly, and each 1024 row
// i reads 256-row c0 = clip((i+½)/4 − ½, 0, 255) bilinearly, so y depends on four 256 rows with
// known weights (clamping the coordinate reproduces the edge handling of both PyTorch and ONNX).
// The bundled decoder uses taps: far cheaper for the small orig_im_size a host passes when it only
// needs low_res_masks, and within ~1.5× of ORT's Resize at 1024² (an If switching between the two
// cost more at small sizes than it saved at large ones). 'literal' exists to cross-check in tests.
// ---------------------------------------------------------------------------------------------

export type MasksPath = 'taps' | 'literal';

/** Pre-padded size (h', w') = floor(size · 1024 / max(H, W) + 0.5) in float32, like the official export. */
function prepadded(g: GraphBuilder, orig: string): string {
  const scale = g.op('Div', [g.scalar(1024), g.op('ReduceMax', [orig], { keepdims: attr.i(0) })]);
  return g.op('Floor', [g.op('Add', [g.op('Mul', [orig, scale]), g.scalar(0.5)])]);
}

function literalChain(g: GraphBuilder, low: string, orig: string, name?: string): string {
  const linear = { mode: attr.s('linear'), coordinate_transformation_mode: attr.s('half_pixel') };
  const big = g.op('Resize', [low, '', '', g.ints([1, NTOK, 1024, 1024])], linear);
  const cropped = g.op('Slice', [big, g.ints([0, 0]), f2i(g, prepadded(g, orig)), g.ints([2, 3])]);
  const size = g.op('Concat', [g.ints([1, NTOK]), f2i(g, orig)], { axis: attr.i(0) });
  return g.op('Resize', [cropped, '', '', size], linear, name);
}

/** The four taps (256-index, weight) of every output index along one axis, as flat [4·n] tensors (tap-major). */
function taps(g: GraphBuilder, outSize: string, preSize: string): { idx: string; w: string } {
  const last = g.op('Sub', [preSize, g.scalar(1)]);
  const y = g.op('Range', [g.scalar(0), outSize, g.scalar(1)]);
  const c1 = g.op('Min', [g.op('Relu', [g.op('Sub', [g.op('Mul', [g.op('Add', [y, g.scalar(0.5)]), g.op('Div', [preSize, outSize])]), g.scalar(0.5)])]), last]);
  const i0 = g.op('Floor', [c1]);
  const l1 = g.op('Sub', [c1, i0]);
  const i01 = g.op('Concat', [i0, g.op('Min', [g.op('Add', [i0, g.scalar(1)]), last])], { axis: attr.i(0) }); // [2n]
  const c0 = g.op('Min', [g.op('Relu', [g.op('Sub', [g.op('Mul', [i01, g.scalar(1 / BLOCK)]), g.scalar(0.5 - 0.5 / BLOCK)])]), g.scalar(MAP - 1)]);
  const j0 = g.op('Floor', [c0]);
  const l0 = g.op('Sub', [c0, j0]);
  const j1 = g.op('Min', [g.op('Add', [j0, g.scalar(1)]), g.scalar(MAP - 1)]);
  const w1 = g.op('Concat', [g.op('Sub', [g.scalar(1), l1]), l1], { axis: attr.i(0) }); // [2n] stage-2 weights
  const idx = f2i(g, g.op('Concat', [j0, j1], { axis: attr.i(0) })); // [4n]: (j0 | j1) × (i0 | i1)
  const w = g.op('Concat', [g.op('Mul', [w1, g.op('Sub', [g.scalar(1), l0])]), g.op('Mul', [w1, l0])], { axis: attr.i(0) });
  return { idx, w };
}

/** Where the logits live: the full low-res map, and the window it was padded from with −clip. */
interface LowRes {
  low: string;
  win: string;
  x0: string;
  y0: string;
}

/**
 * Taps restricted to the window: the chain is linear and its weights sum to 1, so
 * chain(low) = −clip + chain(window + clip, padded with 0), and taps outside the window drop out.
 */
function tapsChain(g: GraphBuilder, src: LowRes, orig: string, name?: string): string {
  const pre = prepadded(g, orig);
  const part = (x: string, i: number) => g.op('Gather', [x, g.const([i], [], 'int64', 'at')], { axis: attr.i(0) });
  const ty = taps(g, part(orig, 0), part(pre, 0));
  const tx = taps(g, part(orig, 1), part(pre, 1));
  const hw = f2i(g, orig);
  const h = g.op('Slice', [hw, g.ints([0]), g.ints([1])]);
  const wd = g.op('Slice', [hw, g.ints([1]), g.ints([2])]);
  const shifted = g.op('Add', [src.win, g.scalar(P.logitClip)]); // 0 outside the window
  // Rows: gather the 4H source rows that fall in the window, weight them, sum the taps → [1,4,H,WIN].
  const local = g.op('Sub', [ty.idx, f2i(g, src.y0)]);
  const inWin = g.op('And', [g.op('GreaterOrEqual', [local, g.ints([0])]), g.op('Less', [local, g.ints([WIN])])]);
  const wy = g.op('Mul', [ty.w, g.op('Cast', [inWin], { to: attr.i(1) })]);
  const rowsIdx = g.op('Clip', [local, g.const([0], [], 'int64', 'lo'), g.const([WIN - 1], [], 'int64', 'hi')]);
  const rows = g.op('Mul', [g.op('Gather', [shifted, rowsIdx], { axis: attr.i(2) }), g.op('Unsqueeze', [wy, g.ints([1])])]);
  const rShape = g.op('Concat', [g.ints([1, NTOK, 4]), h, g.ints([WIN])], { axis: attr.i(0) });
  const r = g.op('ReduceSum', [g.op('Reshape', [rows, rShape]), g.ints([2])], { keepdims: attr.i(0) });
  // Columns: one matrix product with the window rows of the dense [256, W] tap matrix.
  const n4 = g.op('Concat', [g.ints([4]), wd], { axis: attr.i(0) });
  const zeros = g.op('Expand', [g.scalar(0), g.op('Concat', [g.ints([MAP]), wd], { axis: attr.i(0) })]);
  const wxT = g.op('ScatterElements', [zeros, g.op('Reshape', [tx.idx, n4]), g.op('Reshape', [tx.w, n4])], {
    axis: attr.i(0),
    reduction: attr.s('add'),
  });
  const x0 = f2i(g, src.x0);
  const wxWin = g.op('Slice', [wxT, x0, g.op('Add', [x0, g.ints([WIN])]), g.ints([0])]);
  return g.op('Sub', [g.op('MatMul', [r, wxWin]), g.scalar(P.logitClip)], {}, name);
}

function masksFromLowRes(g: GraphBuilder, src: LowRes, orig: string, path: MasksPath): string {
  return path === 'literal' ? literalChain(g, src.low, orig, 'masks') : tapsChain(g, src, orig, 'masks');
}
