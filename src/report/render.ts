import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CompareSummary } from '../compare/summary.js';
import { writeFileAtomic } from '../util/fs.js';
import { reportHtml, type HtmlOverlay } from './html.js';
import { renderPlot, reportPlots, sizeStats } from './plots.js';
import { paretoPlot } from './pareto-plot.js';
import type { ParetoFile } from '../train/pareto-file.js';
import { sizeUnitLabel, type ReportVisuals } from './visuals.js';

export const REPORT_FILE = 'report.html';
export const PLOTS_DIR = 'plots';
export const OVERLAYS_DIR = 'overlays';

export interface RenderReportOptions {
  /** Folder for report.html, plots/ and overlays/. */
  readonly out: string;
  readonly summary: CompareSummary;
  /** Size distributions and overlays (null: not drawn; `notes` says why). */
  readonly visuals: ReportVisuals | null;
  readonly title?: string;
  readonly notes?: readonly string[];
  readonly command?: string;
  /** Longest side of an overlay in the page, pixels (default 320; the files under overlays/ are full size). */
  readonly overlaySize?: number;
  /** The summary file's name, for the page's footer. */
  readonly summaryFile?: string;
  /** A multi-objective study's front (src/train/pareto-file.ts): drawn as the "pareto" plot. */
  readonly pareto?: ParetoFile;
}

export interface RenderedReport {
  readonly html: string;
  readonly plots: string[];
  readonly overlays: string[];
}

/** The summary with the size statistics of the pictures filled in (what summary.json should hold). */
export function withSizes(summary: CompareSummary, visuals: ReportVisuals | null): CompareSummary {
  if (!visuals?.sizes) return { ...summary, sizes: null };
  const spec = visuals.sizes.spec;
  return {
    ...summary,
    sizes: { property: spec.property, unit: sizeUnitLabel(spec.unit, spec.property), frames: visuals.sizes.frames, panels: sizeStats(visuals) },
  };
}

/** Render the plots (SVG + PNG files), the overlay files and the self-contained report.html. */
export async function renderReport(options: RenderReportOptions): Promise<RenderedReport> {
  const { out, summary, visuals } = options;
  const plotsDir = join(out, PLOTS_DIR);
  await mkdir(plotsDir, { recursive: true });
  const plots = [];
  const written: string[] = [];
  for (const spec of [...reportPlots(summary, visuals), ...(options.pareto ? [paretoPlot(options.pareto)] : [])]) {
    const plot = await renderPlot(spec);
    plots.push(plot);
    const svgPath = join(plotsDir, `${plot.name}.svg`);
    const pngPath = join(plotsDir, `${plot.name}.png`);
    await writeFileAtomic(svgPath, plot.svg);
    await writeFileAtomic(pngPath, plot.png);
    written.push(svgPath, pngPath);
  }

  const overlayFiles: string[] = [];
  const overlays: HtmlOverlay[] = [];
  for (const o of visuals?.overlays ?? []) {
    // One row per frame: up to 3 knob settings at 320 px, more get narrower (never below 200 px).
    const size = options.overlaySize ?? Math.max(200, Math.min(320, Math.floor(1200 / Math.max(1, o.cells.length)) - 16));
    // Shown at `size` px: larger frames are downsampled into the page, smaller ones scaled up by the browser (pixelated).
    const scale = size / Math.max(o.width, o.height);
    const width = Math.max(1, Math.round(o.width * scale));
    const height = Math.max(1, Math.round(o.height * scale));
    const cells: HtmlOverlay['cells'][number][] = [];
    for (const c of o.cells) {
      const file = join(OVERLAYS_DIR, `${safeName(o.frame)}.${safeName(c.set)}.png`);
      await writeFileAtomic(join(out, file), c.png);
      overlayFiles.push(join(out, file));
      const small = scale < 1 ? await sharp(c.png).resize(width, height, { kernel: 'lanczos3' }).png().toBuffer() : c.png;
      cells.push({ label: c.label, set: c.set, dataUri: `data:image/png;base64,${small.toString('base64')}`, width, height, instances: c.instances, msa: c.msa, file });
    }
    overlays.push({ frame: o.frame, cells });
  }

  const notes = [...(options.notes ?? [])];
  if (visuals?.note) notes.push(visuals.note);
  const html = reportHtml({
    summary,
    plots,
    overlays,
    title: options.title ?? (summary.kind === 'compare' ? `samstar compare: ${summary.task.name}` : `samstar report: ${summary.task.name}`),
    notes,
    command: options.command,
    summaryFile: options.summaryFile,
  });
  const htmlPath = join(out, REPORT_FILE);
  await writeFileAtomic(htmlPath, html);
  return { html: htmlPath, plots: written, overlays: overlayFiles };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}
