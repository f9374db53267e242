/**
 * A fixed palette of 20 well-separated, saturated colours for instance
 * outlines (after Glasbey/Kelly): neighbours in label order get clearly
 * different colours, and the same label always gets the same colour, so
 * overlays of two runs can be compared by eye.
 */
export type Rgb = readonly [number, number, number];

export const INSTANCE_PALETTE: readonly Rgb[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [220, 190, 255],
  [170, 110, 40],
  [255, 250, 200],
  [128, 0, 0],
  [170, 255, 195],
  [128, 128, 0],
  [255, 215, 180],
  [0, 0, 128],
  [255, 255, 255],
];

/** Colour of label l ≥ 1. */
export function colourOf(label: number, palette: readonly Rgb[] = INSTANCE_PALETTE): Rgb {
  return palette[(label - 1) % palette.length];
}
