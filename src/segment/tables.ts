import { basename } from 'node:path';
import type { Frame } from '../image/frame.js';
import { cocoInstances, type CocoImageInput } from '../masks/coco.js';
import type { Segmentation } from '../masks/segmentation.js';
import { framesCsv, instancesCsv, type MeasuredFrame } from '../measure/csv.js';
import { measure } from '../measure/measure.js';
import { writeFileAtomic } from '../util/fs.js';
import { packageVersion } from '../util/package-root.js';

/** Where the run-wide tables go: `csv` the instance table (and FILE.frames.csv beside it), `coco` one COCO instances JSON. */
export interface RunTableOptions {
  readonly csv?: string;
  readonly coco?: string;
  /** The COCO category name (default "object"). */
  readonly category?: string;
}

/** `stats.csv` → `stats.frames.csv`: the per-frame table beside the instance table. */
export function framesCsvPath(csv: string): string {
  return csv.replace(/(\.csv)?$/i, '.frames.csv');
}

/**
 * Collects what `segment` (or `measure`) produced, frame by frame, and writes the run's
 * tables at the end: the measurement CSVs (src/measure/csv.ts) and the COCO file
 * (src/masks/coco.ts). Instance labels in the CSV are 1-based positions in the frame's
 * NAME.json `instances`, as in NAME.labels.png.
 */
export class RunTables {
  private readonly measured: MeasuredFrame[] = [];
  private readonly images: CocoImageInput[] = [];

  constructor(private readonly options: RunTableOptions) {}

  get enabled(): boolean {
    return this.options.csv !== undefined || this.options.coco !== undefined;
  }

  add(frame: Frame, segmentation: Segmentation): void {
    const pixelSize = frame.pixelSizeNm !== undefined ? { pixelSizeNm: frame.pixelSizeNm } : {};
    if (this.options.csv !== undefined) {
      // No ring statistics: they are the costliest measurement and the table does not list them.
      this.measured.push({ frame: frame.source, measurements: measure(segmentation, { frame, source: frame.source, ring: false }), ...pixelSize });
    }
    if (this.options.coco !== undefined) {
      const [file, ref] = frame.source.split(/#(?=[tzp]\d{4,}$)/);
      this.images.push({ fileName: ref ? `${basename(file)}#${ref}` : basename(file), width: frame.width, height: frame.height, instances: segmentation.instances, ...pixelSize });
    }
  }

  /** Add a frame measured elsewhere (`samstar measure` of a label image). */
  addMeasured(frame: MeasuredFrame): void {
    this.measured.push(frame);
  }

  /** Write the tables; returns the paths written. */
  async write(): Promise<string[]> {
    const written: string[] = [];
    if (this.options.csv !== undefined) {
      await writeFileAtomic(this.options.csv, instancesCsv(this.measured));
      await writeFileAtomic(framesCsvPath(this.options.csv), framesCsv(this.measured));
      written.push(this.options.csv, framesCsvPath(this.options.csv));
    }
    if (this.options.coco !== undefined) {
      const coco = cocoInstances(this.images, { version: packageVersion(), ...(this.options.category ? { category: this.options.category } : {}) });
      await writeFileAtomic(this.options.coco, JSON.stringify(coco) + '\n');
      written.push(this.options.coco);
    }
    return written;
  }
}
