import sharp from 'sharp';
import { buildCompareSummary, type CompareSummary, type RunInput } from '../../src/compare/summary.js';
import type { ImageScores } from '../../src/measure/evaluate.js';
import type { EvaluationRecord, StudyInfo } from '../../src/store/index.js';
import type { PolicyTrainSummary } from '../../src/train/policy-train.js';
import type { TrainSummary } from '../../src/train/summary.js';
import type { ResolvedTask } from '../../src/train/task.js';
import { Rng } from '../../src/util/rng.js';
import type { ReportVisuals } from '../../src/report/visuals.js';

/**
 * Synthetic study data for report tests: no segmenter, no model — three
 * agents × three seeds of made-up but plausible evaluations, size samples and
 * overlay images, so report rendering can be tested in a second or two.
 */
export const AGENTS = ['cmaes', 'bo', 'random'] as const;
export const SEEDS = [1, 2, 3];
export const BUDGET = 24;

export function syntheticTask(): ResolvedTask {
  return {
    name: 'synthetic',
    source: '/nowhere/task.yaml',
    data: { frames: ['/nowhere/frame-0000.png', '/nowhere/frame-0001.png'], labels: ['/nowhere/l0.png', '/nowhere/l1.png'] },
    segmenter: { name: 'sam', fixed: { points_per_side: 16 }, tune: [{ name: 'pred_iou_thresh' }, { name: 'stability_score_thresh' }] },
    knobSpace: [
      { name: 'pred_iou_thresh', kind: 'float', min: 0.3, max: 0.98, default: 0.88, stage: 'filter', description: '' },
      { name: 'stability_score_thresh', kind: 'float', min: 0.3, max: 0.98, default: 0.95, stage: 'filter', description: '' },
    ],
    reward: {
      source: 'inline',
      config: {
        source: 'inline',
        measure: { ring_width: 2, foreground: 'bright' },
        terms: [
          { name: 'size', type: 'size', params: { property: 'equivalent_diameter', target: { distribution: 'lognormal', median: 16, sigma: 0.25 }, unit: 'px', distance: 'wasserstein', tolerance: 0.3, exclude_border: true } },
          { name: 'coverage', type: 'coverage', params: {} },
        ],
        total: '0.5*size + 0.5*coverage',
      },
    },
    agent: { name: 'cmaes', options: {} },
    budget: BUDGET,
    seed: 1,
  };
}

const scores = (msa: number, f1: number): ImageScores => ({ precision: f1 + 0.02, recall: f1 - 0.02, f1, msa, mean_iou: 0.8, dice: 0.9, diameter_error: null });

/**
 * Runs: each agent's reward climbs towards its own ceiling (cmaes highest); with `partial`,
 * random's last seed was interrupted after 9 evaluations and its bo seed 3 never started.
 */
export function syntheticRuns(options: { partial?: boolean } = {}): RunInput[] {
  const task = syntheticTask();
  const ceilings: Record<string, number> = { cmaes: 0.86, bo: 0.8, random: 0.7 };
  const runs: RunInput[] = [];
  let id = 0;
  for (const agent of AGENTS) {
    for (const seed of SEEDS) {
      id++;
      if (options.partial && agent === 'bo' && seed === 3) {
        runs.push({ agent, seed, folder: `runs/${agent}-seed${seed}`, study: null, evaluations: [] });
        continue;
      }
      const rng = new Rng(id * 7919);
      const length = options.partial && agent === 'random' && seed === 3 ? 9 : BUDGET;
      const evaluations: EvaluationRecord[] = [];
      for (let i = 0; i < length; i++) {
        const progress = 1 - Math.exp(-(i + 1) / 6);
        const total = i === 5 && agent === 'random' ? Number.NaN : 0.35 + (ceilings[agent] - 0.35) * progress * (0.8 + 0.2 * rng.next()) + 0.01 * seed;
        const knobs = { pred_iou_thresh: 0.3 + 0.68 * rng.next(), stability_score_thresh: 0.3 + 0.68 * rng.next(), points_per_side: 16 };
        evaluations.push({
          index: i,
          generation: Math.floor(i / 4),
          candidate: i % 4,
          x: [0, 0],
          knobs,
          total,
          terms: Number.isNaN(total) ? {} : { size: total + 0.05, coverage: total - 0.05 },
          frames: [0, 1],
          ms: 40 + 10 * rng.next(),
          created: '2026-01-01T00:00:00.000Z',
          ...(Number.isNaN(total) ? { error: 'reward is NaN' } : {}),
        });
      }
      const interrupted = length < BUDGET;
      const study: StudyInfo = {
        id,
        name: `synthetic-${agent}-seed${seed}`,
        created: '2026-01-01T00:00:00.000Z',
        updated: '2026-01-01T00:00:00.000Z',
        status: interrupted ? 'interrupted' : 'finished',
        seed,
        agent,
        agentOptions: {},
        knobSpace: task.knobSpace,
        config: task,
        budget: BUDGET,
        default: { total: 0.42, terms: { size: 0.3, coverage: 0.54 }, extra: { knobs: { pred_iou_thresh: 0.88, stability_score_thresh: 0.95, points_per_side: 16 }, labelScores: scores(0.21, 0.35) } },
        stopReasons: interrupted ? ['aborted'] : ['budget'],
        message: null,
        pid: null,
        host: null,
        evaluations: evaluations.length,
        failed: evaluations.filter((e) => Number.isNaN(e.total)).length,
        best: null,
      };
      let best: EvaluationRecord | undefined;
      for (const e of evaluations) if (Number.isFinite(e.total) && (!best || e.total > best.total)) best = e;
      const trainSummary = interrupted
        ? null
        : ({ study: study.name, evaluations: evaluations.length, best: { index: best!.index, labelScores: scores(0.4 + ceilings[agent] / 3 + 0.003 * seed, 0.6 + ceilings[agent] / 4) } } as unknown as TrainSummary);
      runs.push({ agent, seed, folder: `runs/${agent}-seed${seed}`, study, evaluations, trainSummary });
    }
  }
  return runs;
}

export function syntheticSummary(options: { partial?: boolean } = {}): CompareSummary {
  return buildCompareSummary({
    kind: 'compare',
    task: syntheticTask(),
    agents: [...AGENTS],
    seeds: SEEDS,
    budget: BUDGET,
    runs: syntheticRuns(options),
    interrupted: options.partial,
    wallSeconds: 12.5,
    created: '2026-01-01T00:00:00.000Z',
  });
}

/** Size samples around the target for each panel, and small overlay PNGs (discs on noise). */
export async function syntheticVisuals(summary: CompareSummary): Promise<ReportVisuals> {
  const rng = new Rng(5);
  const panels = [
    { name: 'default', label: 'default', median: 24, n: 20 },
    ...summary.perAgent.filter((a) => a.bestRun).map((a, i) => ({ name: a.agent, label: `tuned · ${a.agent} (seed ${a.bestRun!.seed})`, median: 16 + i, n: 60 })),
  ];
  const overlays: ReportVisuals['overlays'][number][] = [];
  for (let f = 0; f < 2; f++) {
    const cells = [];
    for (const p of panels) {
      const size = 96;
      const rgb = new Uint8Array(size * size * 3);
      for (let i = 0; i < size * size; i++) {
        const x = i % size;
        const y = Math.floor(i / size);
        const inside = (x - 48) ** 2 + (y - 48) ** 2 < (p.median / 1.5) ** 2;
        const edge = Math.abs(Math.sqrt((x - 48) ** 2 + (y - 48) ** 2) - p.median / 1.5) < 0.8;
        const g = inside ? 200 : 30 + 20 * rng.next();
        rgb[3 * i] = edge ? 255 : g;
        rgb[3 * i + 1] = edge ? 120 : g;
        rgb[3 * i + 2] = edge ? 0 : g;
      }
      const png = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
      cells.push({ set: p.name, label: p.label, png, instances: p.n, msa: 0.3 + 0.1 * cells.length });
    }
    overlays.push({ frame: `frame-000${f}`, width: 96, height: 96, cells });
  }
  return {
    sizes: {
      spec: { property: 'equivalent_diameter', unit: 'px', pixelSize: 1, excludeBorder: true, target: { distribution: 'lognormal', median: 16, sigma: 0.25 } },
      frames: 2,
      panels: panels.map((p) => ({ name: p.name, label: p.label, sample: Array.from({ length: p.n }, () => p.median * Math.exp(0.25 * rng.normal())) })),
    },
    overlays,
  };
}

/**
 * A policy run (ppo) on the synthetic task's 2 frames, as stored: `budget` evaluations of both frames →
 * budget × 2 − 2 visits of one frame each, then (finished) its deterministic policy on both frames, with its
 * own knobs per frame. Unfinished (`visits` given): no summary.json, no final figure.
 */
export function syntheticPolicyRun(seed: number, options: { budget?: number; visits?: number; task?: ResolvedTask } = {}): RunInput & { trainSummary: PolicyTrainSummary | null } {
  const task = options.task ?? syntheticTask();
  const frames = task.data.frames.length;
  const budget = options.budget ?? BUDGET;
  const visitBudget = budget * frames - frames;
  const length = options.visits ?? visitBudget;
  const finished = length === visitBudget;
  const rng = new Rng(31 * seed + 7);
  const evaluations: EvaluationRecord[] = [];
  for (let i = 0; i < length; i++) {
    const total = 0.3 + 0.45 * (1 - Math.exp(-(i + 1) / 10)) + 0.05 * rng.next();
    evaluations.push({
      index: i,
      generation: Math.floor(i / 4),
      candidate: i % 4,
      x: [0, 0],
      knobs: { pred_iou_thresh: 0.3 + 0.68 * rng.next(), stability_score_thresh: 0.3 + 0.68 * rng.next(), points_per_side: 16 },
      total,
      terms: { size: total + 0.05, coverage: total - 0.05 },
      frames: [i % frames],
      ms: 20 + 5 * rng.next(),
      created: '2026-01-01T00:00:00.000Z',
    });
  }
  const name = `synthetic-ppo-seed${seed}`;
  const study: StudyInfo = {
    id: 100 + seed,
    name,
    created: '2026-01-01T00:00:00.000Z',
    updated: '2026-01-01T00:00:00.000Z',
    status: finished ? 'finished' : 'interrupted',
    seed,
    agent: 'ppo',
    agentOptions: {},
    knobSpace: task.knobSpace,
    config: task,
    budget: visitBudget,
    default: { total: 0.42, terms: { size: 0.3, coverage: 0.54 }, extra: { knobs: { pred_iou_thresh: 0.88, stability_score_thresh: 0.95, points_per_side: 16 }, labelScores: scores(0.21, 0.35) } },
    stopReasons: finished ? ['budget'] : ['aborted'],
    message: null,
    pid: null,
    host: null,
    evaluations: evaluations.length,
    failed: 0,
    best: null,
  };
  const perFrame = task.data.frames.map((path, f) => ({
    frame: path.split('/').pop()!,
    total: 0.8 + 0.01 * seed + 0.02 * f,
    knobs: { pred_iou_thresh: 0.6 + 0.05 * f + 0.01 * seed, stability_score_thresh: 0.7 - 0.04 * f },
  }));
  const total = perFrame.reduce((a, p) => a + p.total, 0) / frames;
  const trainSummary = finished
    ? ({
        kind: 'policy',
        study: name,
        status: 'finished',
        evaluations: evaluations.length,
        frames,
        rolloutSize: 4,
        updates: Math.floor(evaluations.length / 4),
        policy: { total, terms: { size: total + 0.03, coverage: total - 0.03 }, labelScores: scores(0.5 + 0.01 * seed, 0.7), perFrame },
      } as unknown as PolicyTrainSummary)
    : null;
  return { agent: 'ppo', seed, folder: `runs/ppo-seed${seed}`, study, evaluations, trainSummary };
}

/** cmaes (black-box) and ppo (policy) on the synthetic task, 2 seeds each. */
export function syntheticPolicySummary(options: { task?: ResolvedTask } = {}): CompareSummary {
  const task = options.task ?? syntheticTask();
  const cmaes = syntheticRuns().filter((r) => r.agent === 'cmaes' && r.seed <= 2).map((r) => ({ ...r, study: r.study ? { ...r.study, config: task } : null }));
  return buildCompareSummary({
    kind: 'compare',
    task,
    agents: ['cmaes', 'ppo'],
    seeds: [1, 2],
    budget: BUDGET,
    runs: [...cmaes, syntheticPolicyRun(1, { task }), syntheticPolicyRun(2, { task })],
    wallSeconds: 3.5,
    created: '2026-01-01T00:00:00.000Z',
  });
}
