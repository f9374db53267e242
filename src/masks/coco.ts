import type { Instance } from './segmentation.js';
import type { Rle } from './types.js';

/**
 * One COCO "instances" JSON for a whole run (the format of COCO's annotation files and of
 * detection results): `images`, `annotations` and `categories`. Each annotation holds its
 * mask as uncompressed RLE (`{ size: [h, w], counts: [...] }`, column-major, what
 * pycocotools' `frPyObjects` / `annToMask` read), `area` in pixels, `bbox` as
 * [x, y, width, height] of the mask's pixels (pycocotools `toBbox`), `iscrowd: 0`, and the
 * segmenter's `score` (its predicted IoU). Entry point: `cocoInstances`.
 */
export interface CocoImageInput {
  /** The image's file name (or frame reference `stack.tif#t0003` for a frame of a stack). */
  readonly fileName: string;
  readonly width: number;
  readonly height: number;
  readonly instances: readonly Pick<Instance, 'segmentation' | 'predicted_iou'>[];
  /** Nanometres per pixel, when known (kept as `pixel_size_nm` on the image record). */
  readonly pixelSizeNm?: number;
}

export interface CocoFile {
  info: { description: string; version: string; date_created: string; samstar_version: string };
  images: { id: number; file_name: string; width: number; height: number; pixel_size_nm?: number }[];
  annotations: { id: number; image_id: number; category_id: number; segmentation: Rle; area: number; bbox: [number, number, number, number]; iscrowd: 0; score: number }[];
  categories: { id: number; name: string; supercategory: string }[];
}

export function cocoInstances(images: readonly CocoImageInput[], options: { category?: string; version: string; description?: string; date?: Date }): CocoFile {
  const out: CocoFile = {
    info: {
      description: options.description ?? 'samstar segmentation',
      version: '1.0',
      date_created: (options.date ?? new Date()).toISOString(),
      samstar_version: options.version,
    },
    images: [],
    annotations: [],
    categories: [{ id: 1, name: options.category ?? 'object', supercategory: 'object' }],
  };
  images.forEach((image, i) => {
    const imageId = i + 1;
    out.images.push({
      id: imageId,
      file_name: image.fileName,
      width: image.width,
      height: image.height,
      ...(image.pixelSizeNm !== undefined ? { pixel_size_nm: image.pixelSizeNm } : {}),
    });
    for (const instance of image.instances) {
      const { area, bbox } = rleStats(instance.segmentation);
      if (area === 0) continue;
      out.annotations.push({
        id: out.annotations.length + 1,
        image_id: imageId,
        category_id: 1,
        segmentation: { size: instance.segmentation.size, counts: [...instance.segmentation.counts] },
        area,
        bbox,
        iscrowd: 0,
        score: instance.predicted_iou,
      });
    }
  });
  return out;
}

/** Pixel count and [x, y, w, h] pixel extent of a column-major RLE, without decoding it. */
export function rleStats(rle: Rle): { area: number; bbox: [number, number, number, number] } {
  const h = rle.size[0];
  let area = 0;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  let position = 0;
  rle.counts.forEach((run, i) => {
    if (i % 2 === 1 && run > 0) {
      area += run;
      const first = position;
      const last = position + run - 1;
      const xa = Math.floor(first / h);
      const xb = Math.floor(last / h);
      x0 = Math.min(x0, xa);
      x1 = Math.max(x1, xb);
      // A run over a column boundary ends column xa at row h−1 and starts column xb at row 0.
      if (xa !== xb) {
        y0 = 0;
        y1 = h - 1;
      } else {
        y0 = Math.min(y0, first % h);
        y1 = Math.max(y1, last % h);
      }
    }
    position += run;
  });
  return area === 0 ? { area, bbox: [0, 0, 0, 0] } : { area, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] };
}
