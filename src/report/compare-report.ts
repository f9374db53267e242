import { resolve } from 'node:path';
import { COMPARE_SUMMARY_FILE, runCompare, type CompareOptions, type CompareResult } from '../compare/compare.js';
import { compareCsv } from '../compare/summary.js';
import { loadSamSegmenter } from '../segmenters/load-segmenter.js';
import { writeFileAtomic } from '../util/fs.js';
import { buildReport } from './report.js';

/**
 * `samstar compare` as a library call with its report: runCompare
 * (src/compare/compare.ts), then, unless `report: false`, DIR/report.html with
 * its plots, and the summary (summary.json, summary.csv) rewritten with the
 * report's size statistics. The comparison and the report share one
 * segmenter, so the report's pictures reuse the frames the runs encoded.
 * An interrupted comparison gets a report without pictures (`samstar report
 * DIR` draws them later).
 */
export async function compareWithReport(options: CompareOptions): Promise<CompareResult> {
  const { task } = options;
  const segmenter = options.segmenter ?? (await loadSamSegmenter({ encoder: task.segmenter.encoder, decoder: task.segmenter.decoder, intraOpThreads: task.segmenter.threads ?? 1 }));
  try {
    const result = await runCompare({ ...options, segmenter });
    if (options.report === false) return result;
    const built = await buildReport({
      out: resolve(options.out),
      summary: result.summary,
      task,
      segmenter,
      skipPictures: result.interrupted ? 'the comparison was interrupted: size histograms and overlays were skipped (`samstar report DIR` draws them from the stored runs)' : undefined,
      overlayFrames: options.overlayFrames,
      histogramFrames: options.histogramFrames,
      command: options.command,
      summaryFile: COMPARE_SUMMARY_FILE,
      log: options.log,
    });
    await writeFileAtomic(result.paths.csv, compareCsv(built.summary));
    return { ...result, summary: built.summary, paths: { ...result.paths, report: built.html } };
  } finally {
    if (options.segmenter === undefined) await segmenter.dispose();
  }
}
