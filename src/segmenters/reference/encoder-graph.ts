// Encoder of the samstar reference segmenter (samstar-ref; NOT SAM). It turns the SAM-normalised
// 1024² image into a [1,256,64,64] "embedding" that is simply a set of 256² context maps stored
// losslessly, 16 channels per map. See README.md for the formulas.
import { attr, GraphBuilder, serializeModel, type Attr } from './onnx-builder.js';

/** SAM 1 pixel statistics (RGB, 0–255). */
export const SAM_MEAN = [123.675, 116.28, 103.53] as const;
export const SAM_STD = [58.395, 57.12, 57.375] as const;

/** Working resolution of the maps (1024 / 4) and the pooling block. */
export const MAP = 256;
export const BLOCK = 4;

/**
 * Order of the maps in the embedding. A 256² map has 65536 = 16 · 64 · 64 values, so map m is
 * stored row-major in channels 16m … 16m+15: reshaping the embedding to [16, 256, 256] gives the
 * maps back without moving data, and the decoder cuts its window with a single Slice (a
 * space-to-depth layout would need a depth-to-space copy on every decoder run). Unused channels
 * are 0. The decoder reads the first three; S and I keep the embedding a faithful image.
 */
export const MAPS = ['dPos', 'dNeg', 'invNoise', 'smooth', 'grey'] as const;
export const MAP_CHANNELS = 16;

/** Background: grey-level opening/closing at 64² with this square window (15 px at 64² = 60 px at 256²). */
const BG_WINDOW = 15;
/** Box smoothing of the opened/closed background (removes the blocky look of flat-top morphology). */
const BG_SMOOTH = 7;
/** Mean of S − opening (and closing − S) on flat noisy background, in units of σ (measured). */
const BG_NOISE_BIAS = 0.55;
/** Noise: local mean of the squared high-pass in 5² windows, lower envelope over 5² windows at 64². */
const NOISE_WINDOW = 5;
const NOISE_ENVELOPE = 5;
/**
 * Var(I − S) = 0.6406 σ² for white noise with the [1,2,1]⊗[1,2,1]/16 smoother; the lower envelope
 * (erosion) of the local variance is biased low, measured on pure Gaussian noise as a factor 0.615.
 */
const NOISE_VAR_CORRECTION = 1 / (0.6406 * 0.615);
/** Noise floor in grey levels (0–255 scale), so noise-free synthetic images give finite logits. */
export const NOISE_FLOOR = 0.5;

type Layout = 'nchw' | 'hwc';

/** Separable square pooling: a [1,k] then a [k,1] window (max and box mean are both separable). */
function pool2(g: GraphBuilder, kind: 'MaxPool' | 'AveragePool', x: string, k: number): string {
  const half = (k - 1) / 2;
  const extra: Record<string, Attr> = kind === 'AveragePool' ? { count_include_pad: attr.i(0) } : {};
  const a = g.op(kind, [x], { kernel_shape: attr.ints([1, k]), pads: attr.ints([0, half, 0, half]), ...extra });
  return g.op(kind, [a], { kernel_shape: attr.ints([k, 1]), pads: attr.ints([half, 0, half, 0]), ...extra });
}
const dilate = (g: GraphBuilder, x: string, k: number) => pool2(g, 'MaxPool', x, k);
const erode = (g: GraphBuilder, x: string, k: number) => g.op('Neg', [pool2(g, 'MaxPool', g.op('Neg', [x]), k)]);
const box = (g: GraphBuilder, x: string, k: number) => pool2(g, 'AveragePool', x, k);

/** Bilinear (half-pixel) upsampling of a [1,1,64,64] map to [1,1,256,256]. */
function up4(g: GraphBuilder, x: string): string {
  return g.op('Resize', [x, '', '', g.ints([1, 1, MAP, MAP])], {
    mode: attr.s('linear'),
    coordinate_transformation_mode: attr.s('half_pixel'),
  });
}

/**
 * Adds the NCHW body: `x` is the SAM-normalised [1,3,1024,1024] image. Returns the embedding name.
 */
function addBody(g: GraphBuilder, x: string): string {
  // Grey level in 0–255 units averaged over 4×4 blocks: undo the SAM normalisation channel by channel,
  // average the channels, and pool, all in one strided convolution. Padding (0) becomes the mean grey.
  const w: number[] = [];
  for (let c = 0; c < 3; c++) for (let k = 0; k < BLOCK * BLOCK; k++) w.push(SAM_STD[c]! / (3 * BLOCK * BLOCK));
  const greyBias = (SAM_MEAN[0] + SAM_MEAN[1] + SAM_MEAN[2]) / 3;
  const grey = g.op('Conv', [x, g.const(w, [1, 3, BLOCK, BLOCK], 'float', 'wGrey'), g.const([greyBias], [1], 'float', 'bGrey')], {
    kernel_shape: attr.ints([BLOCK, BLOCK]),
    strides: attr.ints([BLOCK, BLOCK]),
  });

  // S: light [1,2,1]² smoothing (noise ×0.375) that still keeps 2 px particles; edge padding so the
  // image border is not darkened.
  const k121 = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const padded = g.op('Pad', [grey, g.ints([0, 0, 1, 1, 0, 0, 1, 1])], { mode: attr.s('edge') });
  const smooth = g.op('Conv', [padded, g.const(k121, [1, 1, 3, 3], 'float', 'wSmooth')], { kernel_shape: attr.ints([3, 3]) });

  // Noise σ of the 256² grey map: local variance of the high-pass I − S, then the lower envelope
  // (erosion) at 64² so particle edges and textures next to flat areas do not inflate it.
  const hp = g.op('Sub', [grey, smooth]);
  const localVar = box(g, g.op('Mul', [hp, hp]), NOISE_WINDOW);
  const var64 = g.op('AveragePool', [localVar], { kernel_shape: attr.ints([BLOCK, BLOCK]), strides: attr.ints([BLOCK, BLOCK]) });
  const varEnv = up4(g, box(g, erode(g, var64, NOISE_ENVELOPE), NOISE_ENVELOPE));
  const sigma = g.op('Max', [g.op('Sqrt', [g.op('Mul', [varEnv, g.scalar(NOISE_VAR_CORRECTION)])]), g.scalar(NOISE_FLOOR)]);
  const invNoise = g.op('Reciprocal', [sigma]);

  // Background at 64² (noise is 4× lower there, so the min/max filters are less biased): opening for
  // bright particles on a darker background, closing for dark particles on a brighter one.
  const g64 = g.op('AveragePool', [grey], { kernel_shape: attr.ints([BLOCK, BLOCK]), strides: attr.ints([BLOCK, BLOCK]) });
  const open = up4(g, box(g, dilate(g, erode(g, g64, BG_WINDOW), BG_WINDOW), BG_SMOOTH));
  const close = up4(g, box(g, erode(g, dilate(g, g64, BG_WINDOW), BG_WINDOW), BG_SMOOTH));
  // The min/max filters see noise extremes, so on flat background S − opening averages +β·σ rather
  // than 0; subtracting it centres the background at zero contrast for both polarities.
  const bias = g.op('Mul', [sigma, g.scalar(BG_NOISE_BIAS)]);
  const dPos = g.op('Sub', [g.op('Sub', [smooth, open]), bias]);
  const dNeg = g.op('Sub', [g.op('Sub', [close, smooth]), bias]);

  // Pack: concatenate the maps, reshape (row-major, no data movement) and fill with zero channels.
  const byName: Record<(typeof MAPS)[number], string> = { dPos, dNeg, invNoise, smooth, grey };
  const maps = g.op('Concat', MAPS.map((m) => byName[m]), { axis: attr.i(1) });
  const used = MAPS.length * MAP_CHANNELS;
  const packed = g.op('Reshape', [maps, g.ints([1, used, 64, 64])]);
  return g.op('Pad', [packed, g.ints([0, 0, 0, 0, 0, 256 - used, 0, 0])], {}, 'image_embeddings');
}

/** HWC variant: [H,W,3] RGB 0–255 with the long side already 1024; normalise and pad in-graph. */
function addHwcFront(g: GraphBuilder): string {
  const rgb = g.input('input_image', 'float', ['H', 'W', 3]);
  const chw = g.op('Unsqueeze', [g.op('Transpose', [rgb], { perm: attr.ints([2, 0, 1]) }), g.ints([0])]);
  const norm = g.op('Div', [
    g.op('Sub', [chw, g.const([...SAM_MEAN], [1, 3, 1, 1], 'float', 'mean')]),
    g.const([...SAM_STD], [1, 3, 1, 1], 'float', 'std'),
  ]);
  // pads = [0,0,0,0, 0,0,1024−H,1024−W]: zero (= mean colour after normalising) bottom/right.
  const hw = g.op('Slice', [g.op('Shape', [rgb]), g.ints([0]), g.ints([2])]);
  const rest = g.op('Sub', [g.ints([1024, 1024]), hw]);
  const pads = g.op('Concat', [g.ints([0, 0, 0, 0, 0, 0]), rest], { axis: attr.i(0) });
  return g.op('Pad', [norm, pads]);
}

export const ENCODER_DOC =
  'samstar reference segmenter (samstar-ref) encoder: a small hand-written promptable segmenter that ' +
  'follows the SAM 1 ONNX I/O contract so pipelines, tests and demos run without downloaded weights. ' +
  'It has no learned weights; see src/segmenters/reference/README.md';

export function buildEncoder(options: { layout?: Layout } = {}): Uint8Array {
  const layout = options.layout ?? 'nchw';
  const g = new GraphBuilder();
  const x = layout === 'nchw' ? g.input('input_image', 'float', [1, 3, 1024, 1024]) : addHwcFront(g);
  g.output(addBody(g, x), 'image_embeddings', 'float', [1, 256, 64, 64]);
  return serializeModel(g.graph(`samstar_ref_encoder_${layout}`), {
    producerName: 'samstar',
    producerVersion: 'samstar-ref-1',
    docString: ENCODER_DOC,
    opset: 17,
  });
}
