import { agentKind, type CompareSummary, type SizeStats } from '../compare/summary.js';
import { quantile } from './stats.js';
import { sizeUnitLabel, targetDensity, targetRange, type ReportVisuals, type SizeTarget } from './visuals.js';

/**
 * The report's plots as Vega-Lite specs, rendered to SVG by Vega in Node
 * (no browser, no canvas: text is measured with Vega's estimates) and to PNG
 * by sharp. Vega and Vega-Lite are imported only when a report is rendered.
 */
export type VegaLiteSpec = Record<string, unknown>;

export interface PlotSpec {
  /** File stem under plots/ ("convergence"). */
  readonly name: string;
  readonly title: string;
  readonly spec: VegaLiteSpec;
}

export interface RenderedPlot extends PlotSpec {
  readonly svg: string;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Tableau 10: one colour per agent, in the order the agents were given. */
export const AGENT_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#ff9da6', '#9d755d', '#bab0ac'];
export const DEFAULT_COLOUR = '#7f7f7f';
const TARGET_COLOUR = '#d62728';

export function agentColour(summary: Pick<CompareSummary, 'agents'>, agent: string): string {
  const i = summary.agents.indexOf(agent);
  return AGENT_COLOURS[(i < 0 ? 0 : i) % AGENT_COLOURS.length];
}

export const BASE_CONFIG = {
  background: 'white',
  padding: 8,
  font: 'DejaVu Sans, Verdana, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#cccccc' },
};

function agentScale(summary: CompareSummary): { domain: string[]; range: string[] } {
  return { domain: summary.agents, range: summary.agents.map((a) => agentColour(summary, a)) };
}

/** The policy agents (ppo, reinforce) of a summary, in its order. */
export function policyAgents(summary: Pick<CompareSummary, 'agents'>): string[] {
  return summary.agents.filter((a) => agentKind(a) === 'policy');
}

/** A legend whose labels mark policy agents ("ppo (policy)"; the colour domain stays the agent names), or {} without any. */
function agentLegend(summary: CompareSummary): { legend?: { labelExpr: string } } {
  const policies = policyAgents(summary);
  return policies.length ? { legend: { labelExpr: policyLabelExpr(policies) } } : {};
}

/** A Vega expression for axis and legend labels: a policy agent's name gets " (policy)". */
function policyLabelExpr(policies: readonly string[]): string {
  const list = policies.map((a) => `'${a.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ');
  return `indexof([${list}], datum.label) >= 0 ? datum.label + ' (policy)' : datum.label`;
}

/** The unit of cost in words, for axis titles: "evaluations" or, with policy agents, what one evaluation is. */
function evaluationsTitle(summary: CompareSummary): string {
  if (policyAgents(summary).length === 0) return 'evaluations';
  const S = summary.measures?.framesPerEvaluation ?? summary.task.frames;
  return `evaluations (units of ${S} frame(s): one black-box evaluation or ${S} policy visit(s))`;
}

/** Rows of the convergence plot: per agent and evaluation, the median, min and max over seeds of the best reward so far. */
export function convergenceRows(summary: CompareSummary): { agent: string; evaluation: number; median: number; min: number; max: number; runs: number }[] {
  const rows: { agent: string; evaluation: number; median: number; min: number; max: number; runs: number }[] = [];
  for (const agent of summary.agents) {
    const curves = summary.runs.filter((r) => r.agent === agent).map((r) => r.curve);
    const longest = Math.max(0, ...curves.map((c) => c.length));
    for (let k = 0; k < longest; k++) {
      const values = curves.map((c) => c[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (values.length === 0) continue;
      rows.push({ agent, evaluation: k + 1, median: quantile(values, 0.5), min: Math.min(...values), max: Math.max(...values), runs: values.length });
    }
  }
  return rows;
}

function convergenceSpec(summary: CompareSummary): VegaLiteSpec {
  const rows = convergenceRows(summary);
  const color = { field: 'agent', type: 'nominal', title: 'agent', scale: agentScale(summary) };
  const x = { field: 'evaluation', type: 'quantitative', title: evaluationsTitle(summary), scale: { domainMin: 1, nice: false }, axis: { tickMinStep: 1, format: 'd' } };
  const seeds = summary.seeds.length;
  const policies = policyAgents(summary).length > 0;
  const layers: VegaLiteSpec[] = [
    {
      data: { values: rows },
      mark: { type: 'area', opacity: 0.18, interpolate: 'step-after' },
      encoding: {
        x,
        y: { field: 'min', type: 'quantitative', title: policies ? 'best all-frames mean reward so far' : 'best reward so far', scale: { zero: false } },
        y2: { field: 'max' },
        color: { ...color, legend: null },
      },
    },
    {
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 2, interpolate: 'step-after' },
      encoding: { x, y: { field: 'median', type: 'quantitative' }, color },
    },
  ];
  if (summary.default && Number.isFinite(summary.default.total)) {
    layers.push(
      { data: { values: [{ y: summary.default.total }] }, mark: { type: 'rule', strokeDash: [5, 4], color: DEFAULT_COLOUR }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: [{ y: summary.default.total, label: 'default knobs' }] },
        mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -2, color: DEFAULT_COLOUR, fontSize: 11 },
        encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Convergence',
      subtitle: [
        seeds > 1 ? `median (line) and min–max (band) over ${seeds} seeds` : 'best reward so far',
        ...(policies ? ['policy: best mean over a complete pass over the frames (sampled actions), last its deterministic policy on every frame'] : []),
      ],
    },
    width: 560,
    height: 300,
    layer: layers,
    config: BASE_CONFIG,
  };
}

/**
 * The runs' final figures (what the agents are compared on; see RunSummary.final). Summaries without `final`
 * (written before it existed) fall back to the best total.
 */
function finalRows(summary: CompareSummary): { agent: string; seed: number; best: number; status: string }[] {
  const rows: { agent: string; seed: number; best: number; status: string }[] = [];
  for (const r of summary.runs) {
    const value = r.final !== undefined ? r.final : (r.best?.total ?? null);
    if (typeof value === 'number' && Number.isFinite(value)) rows.push({ agent: r.agent, seed: r.seed, best: value, status: r.status });
  }
  return rows;
}

function finalRewardsSpec(summary: CompareSummary): VegaLiteSpec {
  const rows = finalRows(summary);
  const color = { field: 'agent', type: 'nominal', legend: null, scale: agentScale(summary) };
  const policies = policyAgents(summary);
  const y = {
    field: 'agent',
    type: 'nominal',
    title: null,
    sort: summary.agents,
    ...(policies.length ? { axis: { labelExpr: policyLabelExpr(policies) } } : {}),
  };
  const xTitle = policies.length
    ? `final figure: mean reward over all ${summary.task.frames} frame(s) — best knobs / deterministic policy (one point per seed)`
    : 'final best reward (one point per seed)';
  const layers: VegaLiteSpec[] = [
    {
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 70, opacity: 0.85 },
      encoding: { x: { field: 'best', type: 'quantitative', title: xTitle, scale: { zero: false } }, y, color },
    },
    {
      data: { values: rows },
      mark: { type: 'tick', thickness: 2, size: 22, color: '#333333' },
      encoding: { x: { aggregate: 'median', field: 'best', type: 'quantitative' }, y },
    },
  ];
  if (summary.default && Number.isFinite(summary.default.total)) {
    layers.push({ data: { values: [{ x: summary.default.total }] }, mark: { type: 'rule', strokeDash: [5, 4], color: DEFAULT_COLOUR }, encoding: { x: { field: 'x', type: 'quantitative' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: policies.length ? 'Final figure per run' : 'Final best reward per run', subtitle: 'tick: median over seeds; dashed: default knobs' },
    width: 560,
    height: { step: 28 },
    layer: layers,
    config: BASE_CONFIG,
  };
}

/**
 * Rows of the knob plot: per numeric tuned knob its bounds, the default, each black-box run's best knobs
 * (kind 'run') and each finished policy run's per-frame choices of its deterministic policy (kind 'policy',
 * one row per frame).
 */
export function knobRows(summary: CompareSummary): Record<string, unknown>[] {
  const numeric = summary.task.knobSpace.filter((k) => k.kind !== 'choice') as { name: string; min: number; max: number }[];
  const rows: Record<string, unknown>[] = [];
  for (const knob of numeric) {
    rows.push({ knob: knob.name, who: 'default', value: knob.min, kind: 'bound' }, { knob: knob.name, who: 'default', value: knob.max, kind: 'bound' });
    const d = summary.default?.knobs[knob.name];
    if (typeof d === 'number' && Number.isFinite(d)) rows.push({ knob: knob.name, who: 'default', value: d, kind: 'default' });
    for (const run of summary.runs) {
      const v = run.best?.knobs[knob.name];
      if (typeof v === 'number' && Number.isFinite(v)) rows.push({ knob: knob.name, who: run.agent, value: v, kind: 'run', seed: run.seed });
      for (const f of run.policy?.perFrame ?? []) {
        const p = f.knobs[knob.name];
        if (typeof p === 'number' && Number.isFinite(p)) rows.push({ knob: knob.name, who: run.agent, value: p, kind: 'policy', seed: run.seed, frame: f.frame });
      }
    }
  }
  return rows;
}

/**
 * The knob plot, or null when there is nothing tuned to show (no numeric knob, or no run with knobs yet:
 * e.g. only policy runs that have not finished). Every layer has data: Vega warns "Infinite extent" for a
 * layer whose filter leaves no row (its x extent is [Infinity, -Infinity]).
 */
function knobsSpec(summary: CompareSummary): VegaLiteSpec | null {
  const numeric = summary.task.knobSpace.filter((k) => k.kind !== 'choice') as { name: string; min: number; max: number }[];
  if (numeric.length === 0) return null;
  const rows = knobRows(summary);
  const has = (kind: string): boolean => rows.some((r) => r.kind === kind);
  if (!has('run') && !has('policy')) return null;
  const whoOrder = ['default', ...summary.agents];
  const policies = policyAgents(summary);
  const y = { field: 'who', type: 'nominal', title: null, sort: whoOrder, ...(policies.length ? { axis: { labelExpr: policyLabelExpr(policies) } } : {}) };
  const x = { field: 'value', type: 'quantitative', title: null, scale: { zero: false, nice: false } };
  // (The same legend in every layer that has one: Vega-Lite warns "Conflicting legend property" otherwise.)
  const color = { field: 'who', type: 'nominal', title: 'agent', scale: agentScale(summary), ...agentLegend(summary) };
  const layers: VegaLiteSpec[] = [{ transform: [{ filter: "datum.kind === 'bound'" }], mark: { type: 'point', opacity: 0 }, encoding: { x, y } }];
  if (has('run')) {
    layers.push({ transform: [{ filter: "datum.kind === 'run'" }], mark: { type: 'point', filled: true, size: 60, opacity: 0.8 }, encoding: { x, y, color } });
  }
  if (has('policy')) {
    layers.push({ transform: [{ filter: "datum.kind === 'policy'" }], mark: { type: 'point', shape: 'triangle-up', filled: false, size: 50, strokeWidth: 1.5, opacity: 0.8 }, encoding: { x, y, color } });
  }
  if (has('default')) {
    layers.push({ transform: [{ filter: "datum.kind === 'default'" }], mark: { type: 'point', shape: 'cross', size: 90, filled: true, color: '#222222' }, encoding: { x, y } });
  }
  const what = [
    ...(has('run') ? ['dot: best knobs of each black-box run (one per seed)'] : []),
    ...(has('policy') ? ['open triangle: a policy run\'s deterministic policy, one per frame'] : []),
    ...(has('default') ? ['cross: default'] : []),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Knob values found', subtitle: [`within the tuned bounds; ${what.join('; ')}`] },
    data: { values: rows },
    facet: { row: { field: 'knob', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' }, sort: numeric.map((k) => k.name) } },
    resolve: { scale: { x: 'independent' } },
    spacing: 14,
    spec: { width: 480, height: { step: 20 }, layer: layers },
    config: BASE_CONFIG,
  };
}

/** Common bins for every panel: 28 equal bins over the samples' 1st–99th percentiles and the target's bulk. */
export function histogramEdges(samples: readonly number[][], target: SizeTarget | null): number[] {
  const all = samples.flat().filter(Number.isFinite);
  let lo = Infinity;
  let hi = -Infinity;
  if (all.length) {
    lo = Math.min(lo, quantile(all, 0.01));
    hi = Math.max(hi, quantile(all, 0.99));
  }
  if (target) {
    const [a, b] = targetRange(target);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi <= lo) hi = lo + 1;
  const bins = 28;
  const step = (hi - lo) / bins;
  lo = Math.max(0, lo - step);
  hi += step;
  const width = (hi - lo) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
}

/** Size statistics per panel (what summary.json records next to the histograms). */
export function sizeStats(visuals: ReportVisuals): SizeStats[] {
  if (!visuals.sizes) return [];
  return visuals.sizes.panels.map((p) => {
    const v = p.sample.filter(Number.isFinite);
    return { panel: p.label, instances: v.length, median: v.length ? quantile(v, 0.5) : null, mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null };
  });
}

function sizesSpec(summary: CompareSummary, visuals: ReportVisuals): VegaLiteSpec | null {
  const sizes = visuals.sizes;
  if (!sizes || sizes.panels.length === 0) return null;
  const target = sizes.spec.target;
  const edges = histogramEdges(sizes.panels.map((p) => p.sample), target);
  const rows: Record<string, unknown>[] = [];
  const colours: string[] = [];
  for (const panel of sizes.panels) {
    colours.push(panel.name === 'default' ? DEFAULT_COLOUR : agentColour(summary, panel.name));
    const n = panel.sample.length;
    const counts = new Array<number>(edges.length - 1).fill(0);
    for (const v of panel.sample) {
      if (v < edges[0] || v > edges[edges.length - 1]) continue;
      const j = Math.min(counts.length - 1, Math.floor(((v - edges[0]) / (edges[edges.length - 1] - edges[0])) * counts.length));
      counts[j]++;
    }
    counts.forEach((c, j) => rows.push({ panel: panel.label, kind: 'hist', x0: edges[j], x1: edges[j + 1], density: n ? c / (n * (edges[j + 1] - edges[j])) : 0 }));
    if (target) {
      const steps = 120;
      for (let k = 0; k <= steps; k++) {
        const x = edges[0] + ((edges[edges.length - 1] - edges[0]) * k) / steps;
        rows.push({ panel: panel.label, kind: 'target', x, density: targetDensity(target, x) });
      }
    }
  }
  const unit = sizeUnitLabel(sizes.spec.unit, sizes.spec.property);
  const xTitle = `${sizes.spec.property.replace(/_/g, ' ')} (${unit})`;
  const labels = sizes.panels.map((p) => p.label);
  const layers: VegaLiteSpec[] = [
    {
      transform: [{ filter: "datum.kind === 'hist'" }],
      mark: { type: 'rect', opacity: 0.75, stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'x0', type: 'quantitative', title: xTitle, scale: { domain: [edges[0], edges[edges.length - 1]], nice: false } },
        x2: { field: 'x1' },
        y: { field: 'density', type: 'quantitative', title: 'density' },
        y2: { datum: 0 },
        color: { field: 'panel', type: 'nominal', legend: null, scale: { domain: labels, range: colours } },
      },
    },
  ];
  if (target) {
    layers.push({
      transform: [{ filter: "datum.kind === 'target'" }],
      mark: { type: 'line', color: TARGET_COLOUR, strokeWidth: 2, strokeDash: [6, 3] },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'density', type: 'quantitative' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Size distributions',
      subtitle: `${sizes.frames} frame(s)${sizes.spec.excludeBorder ? ', instances touching the border left out' : ''}${target ? `; dashed red: the reward's target (${describeTarget(target)})` : '; no fixed size target in the reward'}`,
    },
    data: { values: rows },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: labels, header: { labelFontWeight: 'bold' } } },
    spec: { width: sizes.panels.length > 3 ? 200 : 260, height: 190, layer: layers },
    config: BASE_CONFIG,
  };
}

function describeTarget(target: SizeTarget): string {
  switch (target.distribution) {
    case 'lognormal':
      return `log-normal, median ${target.median}, σ ${target.sigma}`;
    case 'normal':
      return `normal, mean ${target.mean}, sd ${target.sd}`;
    case 'histogram':
      return `histogram over ${target.edges[0]}–${target.edges[target.edges.length - 1]}`;
  }
}

/** Every plot the report has data for, in report order. */
export function reportPlots(summary: CompareSummary, visuals: ReportVisuals | null): PlotSpec[] {
  const plots: PlotSpec[] = [];
  if (summary.runs.some((r) => r.curve.some((v) => v !== null))) {
    plots.push({ name: 'convergence', title: 'Convergence', spec: convergenceSpec(summary) });
    if (finalRows(summary).length > 1) plots.push({ name: 'final-rewards', title: 'Final best reward per run', spec: finalRewardsSpec(summary) });
  }
  const knobs = knobsSpec(summary);
  if (knobs) plots.push({ name: 'knobs', title: 'Knob values found', spec: knobs });
  const sizes = visuals ? sizesSpec(summary, visuals) : null;
  if (sizes) plots.push({ name: 'sizes', title: 'Size distributions', spec: sizes });
  return plots;
}

/** Vega-Lite → Vega → SVG (headless, no canvas) → PNG (sharp at 2×). */
export async function renderPlot(plot: PlotSpec): Promise<RenderedPlot> {
  const [vega, vegaLite, { default: sharp }] = await Promise.all([import('vega'), import('vega-lite'), import('sharp')]);
  const compiled = vegaLite.compile(plot.spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    const match = /<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(svg);
    const width = match ? Number(match[1]) : 600;
    const height = match ? Number(match[2]) : 400;
    const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
    return { ...plot, svg, png, width, height };
  } finally {
    view.finalize();
  }
}
