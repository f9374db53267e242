import { totalmem } from 'node:os';
import type { Frame } from '../../image/frame.js';
import { LruCache } from '../../util/lru.js';
import type { KnobSpace, KnobValues } from '../knobs.js';
import type { Segmentation, Segmenter } from '../types.js';
import { DirectProposalSource, fullCropLogits, type DirectProposal } from './direct-source.js';
import { filterKnobsOf, runFilterStage, type FilterStats } from './filter.js';
import type { CropBox } from './grid.js';
import { affectsProposals, samKnobSpace } from './knob-specs.js';
import { bundledModelFiles, defaultModelName } from './bundled-models.js';
import { loadModel, type LoadedModel, type ModelFiles } from './onnx-model.js';
import type { Device } from './devices.js';
import { buildProposal, proposalBytes, type Proposal } from './proposal.js';
import { SummaryProposalSource, type CropProposals } from './proposal-source.js';
import { bestToken, decodePrompts, encodeCrop, refineMasks, type DecoderAnswer, type Embedding } from './propose.js';
import { blobOptionsOf, planPrompts, type CropPlan } from './prompts.js';
import { BlobDetector } from '../../image/blob-detector.js';
import type { Blob } from '../../image/blobs.js';
import { cropTaps, LOW_RES } from './upsample.js';

export interface SamSegmenterOptions {
  /** Encoder + decoder ONNX files; the default bundled model (defaultModelFiles) when absent. */
  readonly files?: ModelFiles;
  readonly intraOpThreads?: number;
  /** Where onnxruntime runs the model (default cpu; providers.ts). */
  readonly device?: Device;
  /** Decode many prompts per decoder call where the graph allows it (default true; onnx-model.ts). */
  readonly batchDecoding?: boolean;
  /** Byte budgets of the stage caches. */
  readonly embeddingCacheBytes?: number;
  /** Default: a quarter of the machine's memory, at least 1 GiB and at most 8 GiB (`defaultProposalCacheBytes`). */
  readonly proposalCacheBytes?: number;
  /**
   * Byte budget of the per-prompt cache: the three proposals of each decoded prompt, kept per frame,
   * crop and prompt position, so a new prompt set (another blob threshold, σ range or grid) decodes
   * only the prompts it has not seen on that frame. 0 turns it off.
   */
  readonly promptCacheBytes?: number;
  /** Called after each decoder batch during the propose stage. */
  readonly onDecodeProgress?: (done: number, total: number) => void;
}

/**
 * Which of a prompt's three proposals go on to the filter stage: all of them,
 * or (SAM 2, multimask_output off) the best-scored one; `perPrompt` counts them.
 */
function tokensKept(values: KnobValues): { perPrompt: number; pick: (iou: ArrayLike<number>) => number[] } {
  if (values.multimask_output === 'off') return { perPrompt: 1, pick: (iou) => [bestToken(Float32Array.from(iou))] };
  return { perPrompt: 3, pick: () => [0, 1, 2] };
}

/** The hand-written bundled model (samstar-ref, not SAM): tiny and instant, what the tests run the pipeline on. */
export function referenceModelFiles(): ModelFiles {
  return bundledModelFiles('reference');
}

/** The model used when no files are given: samstar-learned (not SAM), or SAMSTAR_MODEL's choice. */
export function defaultModelFiles(): ModelFiles {
  return bundledModelFiles(defaultModelName());
}

/**
 * The automatic mask generator on ONNX, in three cached stages:
 * encode (embedding per frame and crop) → propose (decoder answers per frame and
 * prompt set, reduced to summaries) → filter (any filter-knob setting, answered
 * from the summaries without touching the model or walking the logits).
 */
export class SamSegmenter implements Segmenter {
  readonly name = 'sam';
  /** SAM 1's knobs, or SAM 2's (its defaults, plus multimask_output and use_m2m) for a SAM 2 model. */
  readonly knobs: KnobSpace;
  private readonly embeddings: LruCache<Embedding>;
  private readonly proposals: LruCache<SummaryProposalSource>;
  private readonly results = new LruCache<Segmentation>(4096, () => 1);
  // Blob knobs under tuning: the LoG peaks run once per frame and σ range; thresholds and overlaps filter them.
  private readonly blobs = new BlobDetector(1);
  private readonly promptAnswers: LruCache<readonly Proposal[]> | undefined;
  /** Prompts decoded by the model, and prompts answered from the per-prompt cache, since load. */
  readonly decoderCounts = { decoded: 0, reused: 0 };
  private released = false;

  private constructor(
    readonly model: LoadedModel,
    private readonly options: SamSegmenterOptions,
  ) {
    this.knobs = samKnobSpace(model.family);
    this.embeddings = new LruCache<Embedding>(options.embeddingCacheBytes ?? 256 * 2 ** 20, (e) => e.byteLength);
    this.proposals = new LruCache<SummaryProposalSource>(options.proposalCacheBytes ?? defaultProposalCacheBytes(), (s) => s.bytes);
    const promptBytes = options.promptCacheBytes ?? 512 * 2 ** 20;
    this.promptAnswers = promptBytes > 0 ? new LruCache<readonly Proposal[]>(promptBytes, (three) => three.reduce((n, q) => n + proposalBytes(q), 0)) : undefined;
  }

  static async load(options: SamSegmenterOptions = {}): Promise<SamSegmenter> {
    const model = await loadModel(options.files ?? defaultModelFiles(), { intraOpThreads: options.intraOpThreads, device: options.device, batchDecoding: options.batchDecoding });
    return new SamSegmenter(model, options);
  }

  /** Which model files are loaded, with their sha256 (goes into every output record). */
  describeModel(): { encoder: string; decoder: string; encoder_sha256: string; decoder_sha256: string; layout: string } {
    return {
      encoder: this.model.files.encoder,
      decoder: this.model.files.decoder,
      encoder_sha256: this.model.sha256.encoder,
      decoder_sha256: this.model.sha256.decoder,
      layout: `${this.model.encoderLayout}/${this.model.decoderLayout}`,
    };
  }

  private proposeKey(frame: Frame, values: KnobValues): string {
    const stageKnobs = this.knobs.specs
      .filter((s) => s.stage !== 'filter' && affectsProposals(s.name, values))
      .map((s) => [s.name, values[s.name]]);
    return `${frame.hash}|${JSON.stringify(stageKnobs)}`;
  }

  async segment(frame: Frame, knobs: KnobValues): Promise<Segmentation> {
    const values = this.knobs.resolve(knobs);
    const resultKey = `${this.proposeKey(frame, values)}|${this.knobs.stageKey(values, 'filter')}`;
    const cached = this.results.get(resultKey);
    if (cached) return cached;
    const started = performance.now();
    const { source, timings } = await this.propose(frame, values);
    const filterStart = performance.now();
    const { instances, stats } = runFilterStage(source, filterKnobsOf(values));
    source.trimMaterialised(50_000);
    const filterMs = performance.now() - filterStart;
    const segmentation: Segmentation = {
      width: frame.width,
      height: frame.height,
      instances,
      knobs: values,
      timings: { ...timings, filter: filterMs, total: performance.now() - started },
      // Every prompt yields SAM's three multimask proposals (one with SAM 2's multimask_output off): the compute cost the `prompts` reward term reads.
      stats: { ...stats, prompts: stats.proposals / tokensKept(values).perPrompt },
    };
    this.results.set(resultKey, segmentation);
    return segmentation;
  }

  /** Re-run only the filter stage (for benchmarks and agents that vary filter knobs). */
  async refilter(frame: Frame, knobs: KnobValues): Promise<{ instances: Segmentation['instances']; stats: FilterStats }> {
    const values = this.knobs.resolve(knobs);
    const { source } = await this.propose(frame, values);
    return runFilterStage(source, filterKnobsOf(values));
  }

  /** The prompts of every crop (grid and/or blob prompts; blobs detected once per frame and blob knobs). */
  private plan(frame: Frame, values: KnobValues): CropPlan[] {
    let blobs: Blob[] = [];
    if (values.prompts !== 'grid') {
      blobs = this.blobs.detect(frame, blobOptionsOf(values));
    }
    return planPrompts(frame.width, frame.height, values, blobs);
  }

  private async embedding(frame: Frame, crop: CropBox): Promise<Embedding> {
    const key = `${frame.hash}|${crop.box.join(',')}`;
    let e = this.embeddings.get(key);
    if (!e) {
      e = await encodeCrop(this.model, frame, crop.box);
      this.embeddings.set(key, e);
    }
    return e;
  }

  /**
   * Every prompt of every crop, in order, in batches of `points_per_batch` (as segment-anything's
   * generator batches its points): `visit` gets a batch's prompt indices and a `decode(indices)` that
   * encodes the crop (once, only when first needed) and decodes those prompts — in one decoder call
   * when the model batches (onnx-model.ts), one call per prompt otherwise; the answers are the same
   * either way. Timings: encode = the encoder, propose = the rest.
   */
  private async forEachBatch(
    frame: Frame,
    values: KnobValues,
    visit: (plan: CropPlan, crop: number, prompts: readonly number[], decode: (prompts: readonly number[]) => Promise<DecoderAnswer[]>) => Promise<void>,
  ): Promise<{ plans: CropPlan[]; timings: { encode: number; propose: number } }> {
    const plans = this.plan(frame, values);
    const total = plans.reduce((n, p) => n + p.prompts.length, 0);
    const batch = Number(values.points_per_batch);
    let done = 0;
    let encodeMs = 0;
    let proposeMs = 0;
    for (let c = 0; c < plans.length; c++) {
      const plan = plans[c];
      const cropStart = performance.now();
      let cropEncodeMs = 0;
      let embedding: Embedding | undefined;
      const decodeAt = async (indices: readonly number[]): Promise<DecoderAnswer[]> => {
        if (indices.length === 0) return [];
        if (!embedding) {
          const t0 = performance.now();
          embedding = await this.embedding(frame, plan.crop);
          cropEncodeMs += performance.now() - t0;
        }
        const prompts = indices.map((p) => plan.prompts[p]);
        const answers = await decodePrompts(this.model, embedding, prompts, plan.width, plan.height);
        return values.use_m2m === 'on' ? refineMasks(this.model, embedding, prompts, answers, plan.width, plan.height) : answers;
      };
      for (let start = 0; start < plan.prompts.length; start += batch) {
        const end = Math.min(plan.prompts.length, start + batch);
        await visit(plan, c, Array.from({ length: end - start }, (_, i) => start + i), decodeAt);
        done += end - start;
        this.options.onDecodeProgress?.(done, total);
      }
      encodeMs += cropEncodeMs;
      proposeMs += performance.now() - cropStart - cropEncodeMs;
    }
    return { plans, timings: { encode: encodeMs, propose: proposeMs } };
  }

  /** The propose stage, cached per frame and encode/propose knob values, and below that per prompt. */
  async propose(frame: Frame, values: KnobValues): Promise<{ source: SummaryProposalSource; timings: Segmentation['timings'] }> {
    const key = this.proposeKey(frame, values);
    const cached = this.proposals.get(key);
    if (cached) return { source: cached, timings: {} };
    const perCrop: Proposal[][] = [];
    const taps = new Map<number, ReturnType<typeof cropTaps>>();
    const tapsOf = (plan: CropPlan, c: number) => taps.get(c) ?? taps.set(c, cropTaps(plan.width, plan.height, this.model.family)).get(c)!;
    // m2m answers differ from plain ones: they are cached apart.
    const m2m = values.use_m2m === 'on' ? '|m2m' : '';
    const kept = tokensKept(values);
    const { plans, timings } = await this.forEachBatch(frame, values, async (plan, c, indices, decode) => {
      const keyOf = (p: number): string => {
        const prompt = plan.prompts[p];
        return `${frame.hash}|${plan.crop.box.join(',')}|${prompt.x},${prompt.y}|${prompt.box?.join(',') ?? ''}${m2m}`;
      };
      // Prompts seen before on this frame and crop come from the per-prompt cache; the rest go to the decoder together.
      // A prompt repeated within the batch is decoded once, like a cache hit.
      const answers = new Map<string, readonly Proposal[]>();
      const missing: number[] = [];
      const missingKeys = new Set<string>();
      for (const p of indices) {
        const key = keyOf(p);
        if (answers.has(key) || missingKeys.has(key)) continue;
        const three = this.promptAnswers?.get(key);
        if (three) answers.set(key, three);
        else {
          missing.push(p);
          missingKeys.add(key);
        }
      }
      const decoded = await decode(missing);
      missing.forEach((p, i) => {
        const prompt = plan.prompts[p];
        const answer = decoded[i];
        const three = [0, 1, 2].map((t) =>
          buildProposal({ crop: c, prompt: p, token: t + 1, iou: answer.iou[t], point: [prompt.x, prompt.y], plane: answer.lowRes.subarray(t * LOW_RES * LOW_RES, (t + 1) * LOW_RES * LOW_RES) }, tapsOf(plan, c)),
        );
        this.promptAnswers?.set(keyOf(p), three);
        answers.set(keyOf(p), three);
      });
      this.decoderCounts.decoded += missing.length;
      this.decoderCounts.reused += indices.length - missing.length;
      // The same answer under this set's crop and prompt indices (the summaries are shared, never copied).
      perCrop[c] ??= [];
      for (const p of indices) {
        const three = answers.get(keyOf(p))!;
        for (const q of kept.pick(three.map((t) => t.iou))) perCrop[c].push(three[q].crop === c && three[q].prompt === p ? three[q] : { ...three[q], crop: c, prompt: p });
      }
    });
    const crops: CropProposals[] = plans.map((plan, c) => ({ crop: { box: plan.crop.box }, taps: tapsOf(plan, c), proposals: perCrop[c] ?? [] }));
    const source = new SummaryProposalSource(frame.width, frame.height, crops);
    this.proposals.set(key, source);
    return { source, timings };
  }

  /**
   * The propose stage without any cache or summary: full-resolution logits for
   * every proposal, so every filter question is answered by walking pixels.
   * Slow; tests hold the cached path to identical records with it.
   */
  async proposeDirect(frame: Frame, knobs: KnobValues): Promise<DirectProposalSource> {
    const values = this.knobs.resolve(knobs);
    const proposals: DirectProposal[] = [];
    const { plans } = await this.forEachBatch(frame, values, async (plan, c, indices, decode) => {
      const answers = await decode(indices);
      const taps = cropTaps(plan.width, plan.height, this.model.family);
      const kept = tokensKept(values);
      indices.forEach((prompt, i) => {
        for (const t of kept.pick(answers[i].iou)) {
          const plane = answers[i].lowRes.subarray(t * LOW_RES * LOW_RES, (t + 1) * LOW_RES * LOW_RES);
          proposals.push({ crop: c, iou: answers[i].iou[t], point: [plan.prompts[prompt].x, plan.prompts[prompt].y], logits: fullCropLogits(plane, taps) });
        }
      });
    });
    return new DirectProposalSource(frame.width, frame.height, plans.map((p) => ({ box: p.crop.box })), proposals);
  }

  cacheStats(): { embeddings: { entries: number; bytes: number }; proposals: { entries: number; bytes: number }; prompts: { entries: number; bytes: number } } {
    return {
      embeddings: { entries: this.embeddings.size, bytes: this.embeddings.bytes },
      proposals: { entries: this.proposals.size, bytes: this.proposals.bytes },
      prompts: { entries: this.promptAnswers?.size ?? 0, bytes: this.promptAnswers?.bytes ?? 0 },
    };
  }

  async dispose(): Promise<void> {
    this.embeddings.clear();
    this.proposals.clear();
    this.promptAnswers?.clear();
    this.blobs.clear();
    this.results.clear();
    // Releasing an ONNX session twice throws: a second dispose (a caller's finally after another's) is a no-op.
    if (this.released) return;
    this.released = true;
    await this.model.encoder.release();
    await this.model.decoder.release();
  }
}

/**
 * The proposal cache's default budget: a quarter of the machine's memory, between 1 and 8 GiB.
 * Why not a fixed 1 GiB: tuning re-filters every frame of a set in turn, and an LRU cache smaller
 * than the set keeps none of them (each visit evicts the frame needed next). With samstar-learned a
 * dense 512² micrograph's proposals take ~355 MiB at 32² points, so 8 such frames need ~2.8 GiB; at
 * 1 GiB every evaluation re-ran the decoder on all of them (4.6 s per frame instead of ~0.1 s).
 */
export function defaultProposalCacheBytes(): number {
  return Math.min(8 * 2 ** 30, Math.max(2 ** 30, Math.floor(totalmem() / 4)));
}
