/**
 * Full automatic-mask-generator run (encode + 1024 decoder runs + filter) on a
 * 1024×1024 synthetic frame with a 32×32 grid (3072 proposals), against a
 * re-filter with new filter-knob values on the cached proposals.
 *
 * A proposal's summary (a pass over its upsampled logits) is computed when the filter stage first
 * asks for it, after the predicted-IoU test: the full run pays for the proposals that pass its
 * threshold, and the first re-filter with no IoU threshold pays for the rest (printed apart;
 * full + rest is what computing every summary up front cost). `--image FILE` runs the same on a
 * micrograph of your own: on dense fields a model's logits stay above the lowest threshold level
 * over most of the frame, and the deferred summaries are most of the work.
 *
 *   npm run bench -- amg [--image FILE]
 */
import { generateSynthFrame } from '../src/data/synth.js';
import { loadFrame } from '../src/image/load.js';
import { SamSegmenter } from '../src/segmenters/sam/segmenter.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, median, peakRssMb } from './_machine.js';

export async function run(args: string[] = []): Promise<void> {
  console.log(machineLine());
  const imageAt = args.indexOf('--image');
  const frame = imageAt >= 0 ? await loadFrame(args[imageAt + 1]) : generateSynthFrame({ width: 1024, height: 1024, count: 150, diameter: { median: 24, sigma: 0.25 } }, new Rng(42), 'bench-amg').frame;
  console.log(`frame: ${frame.source} (${frame.width}×${frame.height})`);
  const segmenter = await SamSegmenter.load({ intraOpThreads: 1 });
  const defaults = segmenter.knobs.defaults();

  const fullStart = performance.now();
  const first = await segmenter.segment(frame, { ...defaults, pred_iou_thresh: 0.7, stability_score_thresh: 0.8 });
  const fullMs = performance.now() - fullStart;
  const { source } = await segmenter.propose(frame, defaults);
  console.log(`full run: ${fullMs.toFixed(0)} ms (encode ${first.timings.encode?.toFixed(0)} ms, decode+summaries ${first.timings.propose?.toFixed(0)} ms, filter ${first.timings.filter?.toFixed(1)} ms), ${source.size} proposals, ${first.instances.length} masks`);
  console.log(`proposal summaries: ${(source.bytes / 2 ** 20).toFixed(1)} MiB; embeddings cache ${(segmenter.cacheStats().embeddings.bytes / 2 ** 20).toFixed(1)} MiB`);
  const restStart = performance.now();
  await segmenter.refilter(frame, { ...defaults, pred_iou_thresh: 0, stability_score_thresh: 0 });
  const restMs = performance.now() - restStart;
  console.log(`first re-filter with no IoU or stability threshold (computes the summaries the full run skipped): ${restMs.toFixed(0)} ms; every summary up front would make the full run ${((fullMs + restMs) / fullMs).toFixed(2)}× as long`);

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
      rest_of_summaries_ms: Number(restMs.toFixed(1)),
      deferral_ratio: Number(((fullMs + restMs) / fullMs).toFixed(2)),
      refilter_ms: Number(refilterMs.toFixed(3)),
      ratio: Number((fullMs / refilterMs).toFixed(0)),
      peak_rss_mb: Number(peakRssMb().toFixed(0)),
    }),
  );
}
