import { resolve } from 'node:path';
import { COMPARE_SUMMARY_FILE, runCompare, type CompareOptions, type CompareResult } from '../compare/compare.js';
import { compareCsv } from '../compare/summary.js';
import { ArmSegmenters, compareArms } from '../compare/arms.js';
import { writeFileAtomic } from '../util/fs.js';
import { buildReport } from './report.js';

/**
 * `samstar compare` as a library call with its report: runCompare
 * (src/compare/compare.ts), then, unless `report: false`, DIR/report.html with
 * its plots, and the summary (summary.json, summary.csv) rewritten with the
 * report's size statistics. The comparison and the report share their
 * segmenters (one per name), so the report's pictures reuse the frames the runs encoded.
 * An interrupted comparison gets a report without pictures (`samstar report
 * DIR` draws them later).
 */
export async function compareWithReport(options: CompareOptions): Promise<CompareResult> {
  const { task } = options;
  // One segmenter per name for the runs and the report (the task's, and each other one compared with --segmenters).
  const segmenters = new ArmSegmenters(task, [options.segmenter, ...(options.sharedSegmenters ?? [])]);
  try {
    const arms = compareArms(task, options.agents, options.segmenters);
    const segmenter = await segmenters.get(task.segmenter.name);
    for (const arm of arms) await segmenters.get(arm.segmenter);
    const result = await runCompare({ ...options, segmenter, sharedSegmenters: segmenters.all() });
    if (options.report === false) return result;
    const built = await buildReport({
      out: resolve(options.out),
      summary: result.summary,
      task,
      segmenter,
      segmenters: segmenters.all(),
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
    await segmenters.dispose();
  }
}
