/**
 * Full automatic-mask-generator run (encode + 1024 decoder runs + filter) on a
 * 1024×1024 synthetic frame with a 32×32 grid (3072 proposals), against a
 * re-filter with new filter-knob values on the cached proposals.
 */
import { generateSynthFrame } from '../src/data/synth.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, median, peakRssMb } from './_machine.js';

export async function run(): Promise<void> {
  console.log(machineLine());
  const { frame } = generateSynthFrame({ width: 1024, height: 1024, count: 150, diameter: { median: 24, sigma: 0.25 } }, new Rng(42), 'bench-amg');
  const segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
  const defaults = segmenter.knobs.defaults();

  const fullStart = performance.now();
  const first = await segmenter.segment(frame, { ...defaults, pred_iou_thresh: 0.7, stability_score_thresh: 0.8 });
  const fullMs = performance.now() - fullStart;
  const { source } = await segmenter.propose(frame, defaults);
  console.log(`full run: ${fullMs.toFixed(0)} ms (encode ${first.timings.encode?.toFixed(0)} ms, decode+summaries ${first.timings.propose?.toFixed(0)} ms, filter ${first.timings.filter?.toFixed(1)} ms), ${source.size} proposals, ${first.instances.length} masks`);
  console.log(`proposal summaries: ${(source.bytes / 2 ** 20).toFixed(1)} MiB; embeddings cache ${(segmenter.cacheStats().embeddings.bytes / 2 ** 20).toFixed(1)} MiB`);

  // Re-filter with random filter knobs (mask threshold fixed at 0, as SAM 1; the
  // small-region rule off, as the reference default) — many settings, median time.
  const rng = new Rng(7);
  const times: number[] = [];
  let masks = 0;
  for (let i = 0; i < 200; i++) {
    const knobs = {
      ...defaults,
      pred_iou_thresh: rng.uniform(0.5, 0.95),
      stability_score_thresh: rng.uniform(0.5, 0.98),
      box_nms_thresh: rng.uniform(0.4, 0.9),
    };
    const t0 = performance.now();
    const r = await segmenter.refilter(frame, knobs);
    times.push(performance.now() - t0);
    masks += r.instances.length;
  }
  const refilterMs = median(times);
  console.log(`re-filter: median ${refilterMs.toFixed(3)} ms over ${times.length} settings (mean ${(masks / times.length).toFixed(0)} masks)`);

  const timesSmall: number[] = [];
  for (let i = 0; i < 40; i++) {
    const knobs = { ...defaults, pred_iou_thresh: rng.uniform(0.5, 0.95), stability_score_thresh: rng.uniform(0.5, 0.98), min_mask_region_area: 20 + rng.int(200) };
    const t0 = performance.now();
    await segmenter.refilter(frame, knobs);
    timesSmall.push(performance.now() - t0);
  }
  console.log(`re-filter with the small-region rule on (min_mask_region_area 20–220): median ${median(timesSmall).toFixed(2)} ms`);

  await segmenter.dispose();
  console.log(
    JSON.stringify({
      bench: 'amg',
      proposals: source.size,
      full_ms: Number(fullMs.toFixed(1)),
      refilter_ms: Number(refilterMs.toFixed(3)),
      ratio: Number((fullMs / refilterMs).toFixed(0)),
      peak_rss_mb: Number(peakRssMb().toFixed(0)),
    }),
  );
}
