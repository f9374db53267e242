import type { ParetoFile } from '../train/pareto-file.js';
import { BASE_CONFIG, DEFAULT_COLOUR, type PlotSpec, type VegaLiteSpec } from './plots.js';

/**
 * The Pareto front of a multi-objective run: with two objectives a scatter of the front
 * (joined in order, one point per non-dominated knob setting), with more a parallel-coordinates
 * plot (each objective rescaled to [0, 1] over the front and the default, 1 = best). The chosen
 * point (best-knobs.json) and the default knobs are marked. Same Vega-Lite conventions as plots.ts.
 */
const FRONT_COLOUR = '#4c78a8';
const CHOSEN_COLOUR = '#e45756';


export interface ParetoRow {
  readonly kind: 'front' | 'chosen' | 'default';
  readonly label: string;
  readonly values: Record<string, number>;
}

/** The points to draw: the front, the chosen one, the default (when stored). */
export function paretoRows(file: ParetoFile): ParetoRow[] {
  const rows: ParetoRow[] = file.front.map((p, i) => ({ kind: i === file.chosen.position ? 'chosen' : 'front', label: `#${i} (trial ${p.trial})`, values: p.objectives }));
  if (file.default) rows.push({ kind: 'default', label: 'default knobs', values: file.default.objectives });
  return rows;
}

function axisTitle(file: ParetoFile, i: number): string {
  const o = file.objectives[i];
  return `${o.name} (${o.direction === 'maximise' ? 'higher' : 'lower'} is better)`;
}

const KIND_SCALE = {
  domain: ['front', 'chosen', 'default'],
  range: [FRONT_COLOUR, CHOSEN_COLOUR, DEFAULT_COLOUR],
};

function chosenText(file: ParetoFile): string {
  return file.chosen.by === 'weights' ? `chosen: the config's weights ${file.chosen.weights!.join(', ')}` : 'chosen: the knee';
}

export function paretoPlot(file: ParetoFile): PlotSpec {
  return { name: 'pareto', title: 'Pareto front', spec: file.objectives.length === 2 ? scatterSpec(file) : parallelSpec(file) };
}

function scatterSpec(file: ParetoFile): VegaLiteSpec {
  const [a, b] = file.objectives.map((o) => o.name);
  const sizes = { front: 50, chosen: 170, default: 110 };
  const rows = paretoRows(file).map((r) => ({ kind: r.kind, label: r.label, x: r.values[a], y: r.values[b], size: sizes[r.kind] }));
  const front = rows.filter((r) => r.kind !== 'default');
  const x = { field: 'x', type: 'quantitative', title: axisTitle(file, 0), scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative', title: axisTitle(file, 1), scale: { zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Pareto front', subtitle: `${file.front.length} non-dominated of ${file.evaluations} evaluations · red diamond: ${chosenText(file).replace('chosen: ', 'chosen, ')} · grey square: default knobs` },
    width: 520,
    height: 360,
    layer: [
      { data: { values: front }, mark: { type: 'line', color: FRONT_COLOUR, opacity: 0.5, interpolate: 'step-after' }, encoding: { x, y, order: { field: 'x', type: 'quantitative' } } },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, opacity: 0.9 },
        encoding: {
          x,
          y,
          color: { field: 'kind', type: 'nominal', title: null, scale: KIND_SCALE },
          shape: { field: 'kind', type: 'nominal', scale: { domain: KIND_SCALE.domain, range: ['circle', 'diamond', 'square'] }, legend: null },
          size: { field: 'size', type: 'quantitative', scale: null, legend: null },
          tooltip: [{ field: 'label' }, { field: 'x', title: a }, { field: 'y', title: b }],
        },
      },
    ],
    config: BASE_CONFIG,
  };
}

function parallelSpec(file: ParetoFile): VegaLiteSpec {
  const names = file.objectives.map((o) => o.name);
  const rows = paretoRows(file);
  // Rescaled per objective over what is drawn, 1 = the best value (direction applied).
  const lo = names.map((n) => Math.min(...rows.map((r) => r.values[n])));
  const hi = names.map((n) => Math.max(...rows.map((r) => r.values[n])));
  const values = rows.flatMap((r, id) =>
    names.map((n, k) => {
      const span = hi[k] - lo[k];
      const up = span > 0 ? (r.values[n] - lo[k]) / span : 0.5;
      const style = { front: [1, 0.45], chosen: [3, 1], default: [2, 0.9] }[r.kind];
      return { id, kind: r.kind, label: r.label, objective: axisTitle(file, k), value: r.values[n], scaled: file.objectives[k].direction === 'maximise' ? up : 1 - up, width: style[0], alpha: style[1] };
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Pareto front (parallel coordinates)', subtitle: `${file.front.length} non-dominated of ${file.evaluations} evaluations · each objective rescaled to [0, 1], 1 = best · ${chosenText(file)}` },
    width: Math.max(360, 160 * names.length),
    height: 320,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'objective', type: 'nominal', sort: names.map((_, k) => axisTitle(file, k)), title: null, axis: { labelAngle: 0, labelLimit: 220 } },
      y: { field: 'scaled', type: 'quantitative', title: 'rescaled objective (1 = best)', scale: { domain: [0, 1] } },
      detail: { field: 'id', type: 'nominal' },
      color: { field: 'kind', type: 'nominal', title: null, scale: KIND_SCALE },
      strokeWidth: { field: 'width', type: 'quantitative', scale: null, legend: null },
      opacity: { field: 'alpha', type: 'quantitative', scale: null, legend: null },
      tooltip: [{ field: 'label' }, { field: 'objective' }, { field: 'value' }],
    },
    config: BASE_CONFIG,
  };
}
