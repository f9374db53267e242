import type { CompareSummary } from '../compare/summary.js';
import { agentKind, REACH_KEYS } from '../compare/summary.js';
import type { KnobValue } from '../segmenters/knobs.js';
import { agentColour, DEFAULT_COLOUR, type RenderedPlot } from './plots.js';

/**
 * The report page: one self-contained HTML file (inline CSS, plots as SVG data
 * URIs, overlays as PNG data URIs; nothing executable, no external request),
 * readable from disk. summary.json is also embedded as a JSON data block.
 *
 * Every number taken from summary.json is written as
 * `<span data-path="perAgent.0.best.mean" data-value="0.8123…" data-format="reward">0.8123</span>`:
 * data-path is its place in summary.json, data-value its exact JSON value and
 * data-format how it is rounded for display (formatNumber), so a test (or a
 * script) can check the page against the summary.
 */
export interface HtmlOverlay {
  readonly frame: string;
  readonly cells: { readonly label: string; readonly set: string; readonly dataUri: string; readonly width: number; readonly height: number; readonly instances: number; readonly msa: number | null; readonly file: string }[];
}

export interface HtmlInput {
  readonly summary: CompareSummary;
  readonly plots: readonly RenderedPlot[];
  readonly overlays: readonly HtmlOverlay[];
  readonly title: string;
  /** Notes shown under the header (e.g. why pictures are missing). */
  readonly notes?: readonly string[];
  /** How the report was produced ("samstar compare --config …"). */
  readonly command?: string;
  /** The file next to the report that holds the summary (default summary.json). */
  readonly summaryFile?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const key of path.split('.')) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export type Format = 'reward' | 'score' | 'p' | 'seconds' | 'count' | 'mean' | 'knob';

export function formatNumber(value: number, format: Format): string {
  if (!Number.isFinite(value)) return String(value);
  switch (format) {
    case 'reward':
    case 'score':
      return value.toFixed(4);
    case 'p':
      return value >= 0.001 ? value.toPrecision(3) : value.toExponential(2);
    case 'seconds':
      return value < 10 ? value.toFixed(2) : value.toFixed(1);
    case 'count':
      return String(Math.round(value));
    case 'mean':
      return Number.isInteger(value) ? String(value) : value.toFixed(1);
    case 'knob':
      return String(Number(value.toPrecision(6)));
  }
}

/** A number from the summary, tagged with where it lives. Missing values render as an em dash (not tagged). */
function makeNum(summary: CompareSummary) {
  return (path: string, format: Format): string => {
    const value = valueAt(summary, path);
    if (typeof value !== 'number' || !Number.isFinite(value)) return '<span class="na">—</span>';
    return `<span class="num" data-path="${escapeHtml(path)}" data-value="${escapeHtml(JSON.stringify(value))}" data-format="${format}">${formatNumber(value, format)}</span>`;
  };
}

function knobText(value: KnobValue | undefined): string {
  if (value === undefined) return '—';
  return typeof value === 'number' ? formatNumber(value, 'knob') : escapeHtml(String(value));
}

function swatch(colour: string): string {
  return `<span class="swatch" style="background:${colour}"></span>`;
}

/** Whether an agent of the summary is a policy agent (ppo, reinforce): its figures are its deterministic policy's. */
function isPolicyAgent(summary: CompareSummary, agent: string): boolean {
  const kind = summary.perAgent.find((a) => a.agent === agent)?.kind;
  return (kind ?? agentKind(agent)) === 'policy';
}

/** An agent's name as the page shows it: a policy agent is marked "ppo (policy)". */
function agentName(summary: CompareSummary, agent: string): string {
  return `${escapeHtml(agent)}${isPolicyAgent(summary, agent) ? ' <span class="kind">(policy)</span>' : ''}`;
}

/**
 * A policy run's knob over the frames, from its deterministic policy's per-frame choices (runs.N.policy.perFrame):
 * min–max of a number (tagged at the frames that hold them), the distinct values of a choice; null without them.
 */
function policyKnobRange(summary: CompareSummary, runIndex: number, knob: string, num: (path: string, format: Format) => string): string | null {
  const perFrame = summary.runs[runIndex]?.policy?.perFrame ?? [];
  const at = (k: number): string => `runs.${runIndex}.policy.perFrame.${k}.knobs.${knob}`;
  const values = perFrame.map((f, k) => ({ k, v: f.knobs[knob] })).filter((e) => e.v !== undefined);
  if (values.length === 0) return null;
  const numbers = values.filter((e): e is { k: number; v: number } => typeof e.v === 'number' && Number.isFinite(e.v));
  if (numbers.length === values.length) {
    let lo = numbers[0];
    let hi = numbers[0];
    for (const e of numbers) {
      if (e.v < lo.v) lo = e;
      if (e.v > hi.v) hi = e;
    }
    return lo.v === hi.v ? num(at(lo.k), 'knob') : `${num(at(lo.k), 'knob')}–${num(at(hi.k), 'knob')}`;
  }
  return [...new Set(values.map((e) => knobText(e.v)))].join(' | ');
}

/** Where a policy agent's best run is in summary.runs (-1: none). */
function bestPolicyRun(summary: CompareSummary, agentIndex: number): number {
  const a = summary.perAgent[agentIndex];
  if (!a?.bestPolicy) return -1;
  return summary.runs.findIndex((r) => r.agent === a.agent && r.seed === a.bestPolicy!.seed);
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Helvetica, Arial, sans-serif; color: #1d1d1f; margin: 0; background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; background: white; min-height: 100vh; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #e3e3e3; }
p.meta { color: #555; margin: 2px 0; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 14px 0; font-weight: 600; }
.banner.partial { background: #fff4e5; border: 1px solid #f0a040; color: #8a4b00; }
.banner.complete { background: #eaf6ec; border: 1px solid #7cc489; color: #1e6b2d; }
.note { color: #8a4b00; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
table { font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e8e8e8; text-align: right; white-space: nowrap; }
th { background: #f2f3f5; font-weight: 600; white-space: normal; vertical-align: bottom; }
td.l, th.l { text-align: left; }
tr.default td { color: #555; font-style: italic; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.na { color: #aaa; }
.pm { color: #777; }
figure { margin: 12px 0; }
figure.plot img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 12px; margin-top: 4px; }
.overlays { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; }
.overlays figure { margin: 0; }
.overlays img { display: block; image-rendering: pixelated; border: 1px solid #ddd; }
.frame-title { font-weight: 600; margin: 14px 0 6px; }
code { background: #f2f3f5; padding: 1px 4px; border-radius: 3px; font-size: 12px; }
small { color: #666; }
.sig { font-weight: 700; }
.wide { overflow-x: auto; max-width: 100%; }
.kind { color: #666; font-weight: normal; }
.measures { background: #f4f7fb; border: 1px solid #c9d6e8; border-radius: 6px; padding: 8px 14px; margin: 10px 0; font-size: 13px; }
.measures p { margin: 4px 0; }
.measures ul { margin: 4px 0; padding-left: 20px; }
`;

export function reportHtml(input: HtmlInput): string {
  const { summary } = input;
  const num = makeNum(summary);
  const parts: string[] = [];
  const title = escapeHtml(input.title);
  const partial = summary.status === 'partial';
  const finishedRuns = summary.runs.filter((r) => r.status === 'finished').length;
  const policies = summary.agents.filter((a) => isPolicyAgent(summary, a));
  const S = summary.measures?.framesPerEvaluation;
  const unitWords = policies.length && S !== undefined ? ` of ${num('measures.framesPerEvaluation', 'count')} frame(s)` : '';

  parts.push(`<header><h1>${title}</h1>`);
  parts.push(
    `<p class="meta">task <b>${escapeHtml(summary.task.name)}</b> · ${num('task.frames', 'count')} frame(s)${summary.task.labelled ? ' with labels' : ''} · tuning ${summary.task.knobSpace.map((k) => `<code>${escapeHtml(k.name)}</code>`).join(' ')} · budget ${num('budget', 'mean')} evaluations${unitWords} per run</p>`,
  );
  parts.push(
    `<p class="meta">agents ${summary.agents.map((a) => `${swatch(agentColour(summary, a))}${agentName(summary, a)}`).join(', ')} · seeds ${summary.seeds.map((s) => escapeHtml(String(s))).join(', ')} · reward <code>${escapeHtml(summary.task.reward.total ?? summary.task.reward.terms.join(', '))}</code> (${escapeHtml(summary.task.reward.source)})</p>`,
  );
  parts.push(`<p class="meta">written ${escapeHtml(summary.created)}${summary.wallSeconds !== null ? ` · wall time ${num('wallSeconds', 'seconds')} s` : ''}</p>`);
  parts.push(
    partial
      ? `<div class="banner partial" data-status="partial">Partial: ${finishedRuns} of ${summary.runs.length} run(s) finished; the rest were interrupted, failed or never started. Everything below uses what is stored.</div>`
      : `<div class="banner complete" data-status="complete">Complete: all ${summary.runs.length} run(s) finished.</div>`,
  );
  for (const note of input.notes ?? []) parts.push(`<p class="note">${escapeHtml(note)}</p>`);
  parts.push('</header>');

  // Summary table per agent.
  const labelled = summary.perAgent.some((a) => a.labelScores) || summary.default?.labelScores;
  parts.push('<section id="summary"><h2>Summary</h2>');
  const manySeeds = summary.seeds.length > 1;
  parts.push(
    `<p><small>${manySeeds ? 'Best reward: mean ± sample standard deviation over seeds (median, min–max). ' : ''}"To 90 %"/"to 95 %": evaluations and summed evaluation time until a run's best first reached ` +
      `${num('thresholds.90%', 'reward')} / ${num('thresholds.95%', 'reward')}, i.e. 90 % / 95 % of the best reward ${summary.runs.length > 1 ? 'any run' : 'the run'} found (${num('best.total', 'reward')})${manySeeds ? '; mean over the runs that reached it (their count in brackets)' : ''}. ` +
      `${summary.runs.length > 1 ? 'Segmenter caches are shared by all runs, so later runs can be faster per evaluation. ' : ''}${labelled ? `mSA and F1 (IoU ≥ 0.5) of ${manySeeds ? 'each run\'s' : 'the'} best knobs${policies.length ? ' (a policy agent: its deterministic policy\'s knobs per frame)' : ''} on the labelled frames${manySeeds ? ', mean ± std over seeds' : ''}.` : ''}</small></p>`,
  );
  parts.push(`<div class="wide"><table id="summary-table"><thead><tr><th class="l">agent</th><th>runs</th><th>best reward${manySeeds ? ' (mean ± std)' : ''}</th>${manySeeds ? '<th>median (min–max)</th>' : ''}`);
  for (const key of REACH_KEYS) parts.push(`<th>to ${key}: evals · s <small>(runs)</small></th>`);
  parts.push(`<th>evals · s / run</th>${labelled ? '<th>mSA</th><th>F1</th>' : ''}</tr></thead><tbody>`);
  if (summary.default) {
    parts.push(`<tr class="default"><td class="l">${swatch(DEFAULT_COLOUR)}default knobs</td><td></td><td>${num('default.total', 'reward')}</td>${manySeeds ? '<td></td>' : ''}`);
    for (let k = 0; k < REACH_KEYS.length; k++) parts.push('<td></td>');
    parts.push('<td></td>');
    if (labelled) parts.push(`<td>${num('default.labelScores.msa', 'score')}</td><td>${num('default.labelScores.f1', 'score')}</td>`);
    parts.push('</tr>');
  }
  summary.perAgent.forEach((a, i) => {
    const at = `perAgent.${i}`;
    parts.push(`<tr data-agent="${escapeHtml(a.agent)}" data-kind="${isPolicyAgent(summary, a.agent) ? 'policy' : 'black-box'}"><td class="l">${swatch(agentColour(summary, a.agent))}${agentName(summary, a.agent)}</td>`);
    parts.push(`<td>${num(`${at}.finished`, 'count')}/${num(`${at}.runs`, 'count')}</td>`);
    if (manySeeds) {
      parts.push(`<td>${num(`${at}.best.mean`, 'reward')} <span class="pm">±</span> ${num(`${at}.best.std`, 'reward')}</td>`);
      parts.push(`<td>${num(`${at}.best.median`, 'reward')} <small>(${num(`${at}.best.min`, 'reward')}–${num(`${at}.best.max`, 'reward')})</small></td>`);
    } else parts.push(`<td>${num(`${at}.best.mean`, 'reward')}</td>`);
    for (const key of REACH_KEYS) {
      const reached = a.reach[key].reached > 0 ? `${num(`${at}.reach.${key}.evaluations.mean`, 'mean')} · ${num(`${at}.reach.${key}.seconds.mean`, 'seconds')}` : '<span class="na">—</span>';
      parts.push(`<td>${reached} <small>(${num(`${at}.reach.${key}.reached`, 'count')})</small></td>`);
    }
    parts.push(`<td>${num(`${at}.evaluations.mean`, 'mean')} · ${num(`${at}.seconds.mean`, 'seconds')}</td>`);
    if (labelled) {
      const pm = (key: string): string => (manySeeds ? ` <span class="pm">±</span> ${num(`${at}.labelScores.${key}.std`, 'score')}` : '');
      parts.push(`<td>${num(`${at}.labelScores.msa.mean`, 'score')}${pm('msa')}</td>`);
      parts.push(`<td>${num(`${at}.labelScores.f1.mean`, 'score')}${pm('f1')}</td>`);
    }
    parts.push('</tr>');
  });
  parts.push('</tbody></table></div>');
  if (policies.length && summary.measures) {
    // What the figures are when black-box and policy agents share the table: summary.json's own words.
    parts.push(
      `<div class="measures" id="measures"><p><b>Black-box agents and policy agents (${policies.map((a) => escapeHtml(a)).join(', ')}) on the same footing</b> ` +
        `<small>(summary.json <code>measures</code>)</small>: one <b>evaluation</b> = ${num('measures.framesPerEvaluation', 'count')} frame(s) segmented and scored ` +
        `(one black-box evaluation, or ${num('measures.framesPerEvaluation', 'count')} policy visit(s) of one frame each); a policy's <b>best reward</b> is its final figure, ` +
        `its deterministic policy with its own knobs per frame, on all ${num('task.frames', 'count')} frame(s).</p><ul>` +
        `<li><b>final figure</b> (best reward, the thresholds, the tests): ${escapeHtml(summary.measures.final)}</li>` +
        `<li><b>cost</b> (evaluations): ${escapeHtml(summary.measures.cost)}</li>` +
        `<li><b>convergence</b>: ${escapeHtml(summary.measures.convergence)}</li>` +
        // Where the policy runs started (summary.json policyInit): a warm start changes what their curves mean.
        // Absent (a black-box study, or a summary from before the field): say nothing rather than guess.
        (summary.policyInit
          ? `<li id="policy-init"><b>start</b>: every policy run started at the static policy <code>${escapeHtml(summary.policyInit.source)}</code> (<code>--init-policy</code>)</li>`
          : summary.policyInit === null
            ? '<li id="policy-init"><b>start</b>: every policy run started from scratch (no <code>--init-policy</code>)</li>'
            : '') +
        '</ul></div>',
    );
  }
  parts.push('</section>');

  // Default vs tuned, side by side: reward, its terms, label scores.
  // A black-box agent's column is its best run's knobs (perAgent.N.bestRun); a policy agent's, its best run's
  // deterministic policy with its own knobs per frame (perAgent.N.bestPolicy) — never the default knobs.
  const tunedAgents = summary.perAgent
    .map((a, i) => ({ a, i, at: a.bestRun ? `perAgent.${i}.bestRun` : `perAgent.${i}.bestPolicy`, best: a.bestRun ?? a.bestPolicy }))
    .filter((e): e is typeof e & { best: NonNullable<typeof e.best> } => e.best !== null && e.best !== undefined);
  const tunedPolicies = tunedAgents.some(({ a }) => !a.bestRun);
  if (summary.default || tunedAgents.length) {
    parts.push('<section id="default-vs-tuned"><h2>Default vs tuned</h2>');
    parts.push(
      `<p><small>The reward and its terms for the default knobs and for the best knobs of ${manySeeds ? 'each agent\'s best run' : 'each agent'}` +
        `${tunedPolicies ? `, or, for a policy agent, ${manySeeds ? 'its best run\'s' : 'its'} deterministic policy with its own knobs per frame (mean over all ${num('task.frames', 'count')} frame(s))` : ''}` +
        `${labelled ? ', and their scores against the labels (which tuning never saw unless the reward uses them)' : ''}.</small></p>`,
    );
    parts.push('<div class="wide"><table id="default-vs-tuned-table"><thead><tr><th class="l"></th><th>default</th>');
    for (const { a, best } of tunedAgents) {
      const seed = manySeeds ? ` <small>(seed ${escapeHtml(String(best.seed))})</small>` : '';
      parts.push(
        a.bestRun
          ? `<th data-agent="${escapeHtml(a.agent)}">${swatch(agentColour(summary, a.agent))}tuned · ${escapeHtml(a.agent)}${seed}</th>`
          : `<th data-agent="${escapeHtml(a.agent)}">${swatch(agentColour(summary, a.agent))}${agentName(summary, a.agent)}${seed}<br><small>deterministic policy, knobs per frame</small></th>`,
      );
    }
    parts.push('</tr></thead><tbody>');
    const row = (label: string, defaultPath: string | null, agentPath: (at: string) => string, format: Format): void => {
      parts.push(`<tr><td class="l">${label}</td><td>${defaultPath ? num(defaultPath, format) : '<span class="na">—</span>'}</td>`);
      for (const { at } of tunedAgents) parts.push(`<td>${num(agentPath(at), format)}</td>`);
      parts.push('</tr>');
    };
    row('<b>reward</b>', 'default.total', (at) => `${at}.total`, 'reward');
    const terms = [...new Set([...Object.keys(summary.default?.terms ?? {}), ...tunedAgents.flatMap(({ best }) => Object.keys(best.terms))])];
    for (const t of terms) row(`&nbsp;&nbsp;term <code>${escapeHtml(t)}</code>`, `default.terms.${t}`, (at) => `${at}.terms.${t}`, 'reward');
    if (labelled) {
      for (const [key, label] of [['msa', 'mSA'], ['f1', 'F1 (IoU ≥ 0.5)'], ['precision', 'precision'], ['recall', 'recall']] as const) {
        row(`<b>${label}</b> <small>vs labels</small>`, `default.labelScores.${key}`, (at) => `${at}.labelScores.${key}`, 'score');
      }
    }
    parts.push('</tbody></table></div></section>');
  }

  const plot = (name: string, caption?: string): void => {
    const p = input.plots.find((x) => x.name === name);
    if (!p) return;
    const uri = `data:image/svg+xml;base64,${Buffer.from(p.svg).toString('base64')}`;
    parts.push(
      `<figure class="plot" data-plot="${escapeHtml(p.name)}"><img alt="${escapeHtml(p.title)}" src="${uri}" width="${Math.round(p.width)}" height="${Math.round(p.height)}">` +
        `<figcaption>${caption ? `${escapeHtml(caption)} · ` : ''}also <code>plots/${escapeHtml(p.name)}.svg</code>, <code>plots/${escapeHtml(p.name)}.png</code></figcaption></figure>`,
    );
  };

  parts.push('<section id="convergence"><h2>Convergence</h2>');
  plot(
    'convergence',
    policies.length
      ? "evaluations in the unit explained under the summary table; a policy's curve is the best mean over a complete pass over the frames, its last point its deterministic policy on every frame"
      : undefined,
  );
  plot('final-rewards', policies.length ? 'each run\'s final figure: its best knobs, or its deterministic policy, on all frames' : undefined);
  if (!input.plots.some((p) => p.name === 'convergence')) parts.push('<p class="na">no evaluation stored yet</p>');
  parts.push('</section>');

  if (input.plots.some((p) => p.name === 'pareto')) {
    parts.push('<section id="pareto"><h2>Pareto front</h2>');
    plot('pareto', 'every non-dominated knob setting is in pareto.json; samstar segment --knobs OUT/pareto.json --pick N|knee|w1,w2 segments with any of them');
    parts.push('</section>');
  }

  // Significance tests.
  if (summary.agents.length > 1) {
    parts.push('<section id="tests"><h2>Is one agent better? (Mann–Whitney U)</h2>');
    parts.push(
      `<p><small>Two-sided Mann–Whitney U test on the runs' final best rewards${policies.length ? ' (a policy run: its deterministic policy on all frames)' : ''}, for every pair of agents. Exact p-value without ties; ` +
        'normal approximation with tie and continuity correction otherwise. Holm-adjusted p over all pairs. ' +
        'P(A &gt; B): the chance that a run of A ends better than a run of B (ties count ½), U/(n₁n₂). With few seeds no test can be significant: ' +
        'with 3 seeds each the smallest possible p is 0.1.</small></p>',
    );
    parts.push('<table id="tests-table"><thead><tr><th class="l">A</th><th class="l">B</th><th>n(A)</th><th>n(B)</th><th>U(A)</th><th>P(A &gt; B)</th><th>p</th><th>p (Holm)</th><th class="l">method</th></tr></thead><tbody>');
    summary.tests.forEach((t, i) => {
      const at = `tests.${i}`;
      parts.push(
        `<tr><td class="l">${swatch(agentColour(summary, t.a))}${agentName(summary, t.a)}</td><td class="l">${swatch(agentColour(summary, t.b))}${agentName(summary, t.b)}</td>` +
          `<td>${num(`${at}.n1`, 'count')}</td><td>${num(`${at}.n2`, 'count')}</td><td>${num(`${at}.u`, 'knob')}</td><td>${num(`${at}.effect`, 'score')}</td>` +
          `<td${t.p < 0.05 ? ' class="sig"' : ''}>${num(`${at}.p`, 'p')}</td><td>${num(`${at}.pHolm`, 'p')}</td><td class="l">${escapeHtml(t.method)}</td></tr>`,
      );
    });
    parts.push('</tbody></table></section>');
  }

  // Knobs.
  parts.push('<section id="knobs"><h2>Knob values</h2>');
  parts.push(
    `<p><small>The tuned knobs of each agent's best run (its seed in the header), next to the defaults and the bounds searched. ` +
      `${policies.length ? 'A policy agent chooses its knobs per frame: its column shows the range (min–max) over the frames of its best run\'s deterministic policy. ' : ''}` +
      "Every run's knobs are in the runs table below.</small></p>",
  );
  parts.push('<table id="knobs-table"><thead><tr><th class="l">knob</th><th>bounds</th><th>default</th>');
  const policyRuns = summary.perAgent.map((_, i) => bestPolicyRun(summary, i));
  summary.perAgent.forEach((a, i) => {
    const seed = a.bestRun?.seed ?? (policyRuns[i] >= 0 ? a.bestPolicy!.seed : null);
    const what = isPolicyAgent(summary, a.agent) ? (seed !== null ? `per frame, seed ${escapeHtml(String(seed))}` : 'per frame') : seed !== null ? `seed ${escapeHtml(String(seed))}` : null;
    parts.push(`<th>${swatch(agentColour(summary, a.agent))}${agentName(summary, a.agent)}${what ? ` <small>(${what})</small>` : ''}</th>`);
  });
  parts.push('</tr></thead><tbody>');
  for (const knob of summary.task.knobSpace) {
    const bounds = knob.kind === 'choice' ? knob.choices.map((c) => escapeHtml(String(c))).join(' | ') : `${formatNumber(knob.min, 'knob')} – ${formatNumber(knob.max, 'knob')}`;
    const d = summary.default?.knobs[knob.name];
    parts.push(`<tr><td class="l"><code>${escapeHtml(knob.name)}</code></td><td>${bounds}</td><td>${typeof d === 'number' ? num(`default.knobs.${knob.name}`, 'knob') : knobText(d)}</td>`);
    summary.perAgent.forEach((a, i) => {
      if (!a.bestRun && policyRuns[i] >= 0) {
        parts.push(`<td>${policyKnobRange(summary, policyRuns[i], knob.name, num) ?? '<span class="na">—</span>'}</td>`);
        return;
      }
      const v = a.bestRun?.knobs[knob.name];
      parts.push(`<td>${typeof v === 'number' ? num(`perAgent.${i}.bestRun.knobs.${knob.name}`, 'knob') : knobText(v)}</td>`);
    });
    parts.push('</tr>');
  }
  parts.push('</tbody></table>');
  plot('knobs');
  if (!input.plots.some((p) => p.name === 'knobs') && summary.task.knobSpace.some((k) => k.kind !== 'choice')) {
    parts.push('<p class="na" id="knobs-plot-note">no knob plot: no run has tuned knobs yet (a black-box run\'s best knobs, or a finished policy run\'s knobs per frame)</p>');
  }
  parts.push('</section>');

  // Sizes.
  parts.push('<section id="sizes"><h2>Size distributions</h2>');
  if (summary.sizes) {
    plot('sizes');
    parts.push(`<table id="sizes-table"><thead><tr><th class="l">segmentation</th><th>instances</th><th>median ${escapeHtml(summary.sizes.property.replace(/_/g, ' '))} (${escapeHtml(summary.sizes.unit)})</th><th>mean</th></tr></thead><tbody>`);
    summary.sizes.panels.forEach((p, i) => {
      parts.push(`<tr><td class="l">${escapeHtml(p.panel)}</td><td>${num(`sizes.panels.${i}.instances`, 'count')}</td><td>${num(`sizes.panels.${i}.median`, 'knob')}</td><td>${num(`sizes.panels.${i}.mean`, 'knob')}</td></tr>`);
    });
    parts.push('</tbody></table>');
  } else parts.push('<p class="na">not drawn (see the notes above)</p>');
  parts.push('</section>');

  // Overlays.
  parts.push('<section id="overlays"><h2>Segmentations: default vs tuned</h2>');
  if (input.overlays.length) {
    parts.push(
      `<p><small>Instance outlines over the frame; one column per knob setting (the tuned knobs are each agent's best run${policies.length ? '; a policy agent\'s column: its deterministic policy\'s knobs for that frame' : ''}). Full-size PNGs are in <code>overlays/</code>.</small></p>`,
    );
    for (const o of input.overlays) {
      parts.push(`<div class="frame-title">${escapeHtml(o.frame)}</div><div class="overlays">`);
      for (const c of o.cells) {
        const colour = c.set === 'default' ? DEFAULT_COLOUR : agentColour(summary, c.set);
        parts.push(
          `<figure data-overlay="${escapeHtml(c.set)}"><img alt="${escapeHtml(`${o.frame}: ${c.label}`)}" src="${c.dataUri}" width="${c.width}" height="${c.height}">` +
            `<figcaption>${swatch(colour)}<b>${escapeHtml(c.label)}</b> · ${c.instances} instances${c.msa !== null ? ` · mSA ${c.msa.toFixed(3)}` : ''}</figcaption></figure>`,
        );
      }
      parts.push('</div>');
    }
  } else parts.push('<p class="na">not drawn (see the notes above)</p>');
  parts.push('</section>');

  // Runs.
  parts.push('<section id="runs"><h2>Runs</h2>');
  if (policies.length) {
    parts.push(
      `<p><small>evaluations: units of ${num('measures.framesPerEvaluation', 'count')} frame(s), as above (a policy run's own count of one-frame visits in brackets); ` +
        "best: a policy run's deterministic policy on all frames, its knobs per frame as min–max over the frames.</small></p>",
    );
  }
  parts.push(`<div class="wide"><table id="runs-table"><thead><tr><th class="l">agent</th><th>seed</th><th class="l">status</th><th>evaluations</th><th>best</th><th>at #</th><th>evals to 90 %</th><th>seconds</th>${labelled ? '<th>mSA</th><th>F1</th>' : ''}<th class="l">tuned knobs</th><th class="l">folder</th></tr></thead><tbody>`);
  summary.runs.forEach((r, i) => {
    const at = `runs.${i}`;
    const policy = (r.kind ?? agentKind(r.agent)) === 'policy';
    let knobs = '—';
    if (policy && r.policy?.perFrame.length) {
      const ranges = summary.task.knobSpace.map((k) => ({ k: k.name, range: policyKnobRange(summary, i, k.name, num) })).filter((e) => e.range !== null);
      knobs = `per frame: ${ranges.map((e) => `${escapeHtml(e.k)} ${e.range}`).join(', ')}`;
    } else if (r.best && !policy) knobs = Object.entries(r.best.knobs).map(([k, v]) => `${escapeHtml(k)} ${typeof v === 'number' ? num(`${at}.best.knobs.${k}`, 'knob') : knobText(v)}`).join(', ');
    const source = r.best?.source && r.best.source !== 'best evaluation' ? ` title="${escapeHtml(r.best.source)}"` : '';
    parts.push(
      `<tr data-run="${escapeHtml(`${r.agent}:${r.seed}`)}"><td class="l">${swatch(agentColour(summary, r.agent))}${agentName(summary, r.agent)}</td><td>${num(`${at}.seed`, 'count')}</td>` +
        `<td class="l">${escapeHtml(r.status)}${r.message ? ` <small title="${escapeHtml(r.message)}">(${escapeHtml(r.message.split('\n')[0].slice(0, 60))})</small>` : ''}</td>` +
        `<td>${num(`${at}.evaluations`, 'mean')}/${num(`${at}.budget`, 'mean')}${policy && r.visits !== null && r.visits !== undefined ? ` <small>(${num(`${at}.visits`, 'count')} visits)</small>` : ''}</td>` +
        `<td${source}>${num(`${at}.best.total`, 'reward')}${policy && r.best ? ' <small>policy</small>' : ''}</td><td>${num(`${at}.best.index`, 'count')}</td>` +
        `<td>${num(`${at}.reach.90%.evaluations`, 'mean')}</td><td>${num(`${at}.seconds`, 'seconds')}</td>` +
        (labelled ? `<td>${num(`${at}.labelScores.msa`, 'score')}</td><td>${num(`${at}.labelScores.f1`, 'score')}</td>` : '') +
        `<td class="l"><small>${knobs}</small></td><td class="l"><code>${escapeHtml(r.folder)}</code></td></tr>`,
    );
  });
  parts.push('</tbody></table></div></section>');

  parts.push(
    `<footer><h2>Files</h2><p><small><code>${escapeHtml(input.summaryFile ?? 'summary.json')}</code> holds every number of this page (each number here carries its place in it as <code>data-path</code>)${summary.kind === 'compare' ? ', <code>summary.csv</code> one row per agent, <code>runs/*/</code> one study per agent and seed (resume, <code>samstar studies</code>, <code>samstar report runs/NAME</code>)' : ''}.` +
      `${input.command ? ` Made by <code>${escapeHtml(input.command)}</code>.` : ''}</small></p></footer>`,
  );

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="samstar">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<main data-status="${summary.status}">
${parts.join('\n')}
</main>
<script type="application/json" id="summary-json">${JSON.stringify(summary).replace(/</g, '\\u003c')}</script>
</body>
</html>
`;
}

