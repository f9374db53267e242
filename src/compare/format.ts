import { policyVisitBudget, type CompareSummary } from './summary.js';

const f = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** The table `samstar compare` prints: one line per agent. */
export function formatCompareSummary(summary: CompareSummary): string {
  const lines: string[] = [];
  const finished = summary.runs.filter((r) => r.status === 'finished').length;
  lines.push(
    `compare "${summary.task.name}": ${summary.agents.length} agent(s) × ${summary.seeds.length} seed(s), budget ${summary.budget}: ${summary.status}` +
      (summary.status === 'partial' ? ` (${finished}/${summary.runs.length} runs finished)` : ''),
  );
  const defaults = summary.segmenters?.map((s) => ({ who: `${s.segmenter} default knobs`, d: s.default })) ?? [{ who: 'default knobs', d: summary.default }];
  for (const { who, d } of defaults) if (d) lines.push(`${who}: reward ${f(d.total)}${d.labelScores ? `, mSA ${f(d.labelScores.msa, 3)}, F1 ${f(d.labelScores.f1, 3)}` : ''}`);
  const labelled = summary.perAgent.some((a) => a.labelScores);
  // Policy agents are marked: their figures are made comparable (see the note under the table).
  const policies = summary.perAgent.filter((a) => a.kind === 'policy');
  const name = (agent: string): string => (policies.some((a) => a.agent === agent) ? `${agent} (policy)` : agent);
  const width = Math.max(6, ...summary.agents.map((a) => name(a).length));
  lines.push(
    `${'agent'.padEnd(width)}  ${'runs'.padStart(5)}  ${'best (mean ± std)'.padStart(19)}  ${'evals→90%'.padStart(9)}  ${'s→90%'.padStart(7)}${labelled ? `  ${'mSA'.padStart(6)}  ${'F1'.padStart(6)}` : ''}`,
  );
  for (const a of summary.perAgent) {
    const best = a.best.mean === null ? '—' : `${f(a.best.mean)} ± ${f(a.best.std)}`;
    const reach = a.reach['90%'];
    lines.push(
      `${name(a.agent).padEnd(width)}  ${`${a.finished}/${a.runs}`.padStart(5)}  ${best.padStart(19)}  ${(reach.evaluations.mean === null ? '—' : reach.evaluations.mean.toFixed(1)).padStart(9)}  ${f(reach.seconds.mean, 1).padStart(7)}` +
        (labelled ? `  ${f(a.labelScores?.msa.mean, 3).padStart(6)}  ${f(a.labelScores?.f1.mean, 3).padStart(6)}` : ''),
    );
  }
  if (policies.length) {
    const S = summary.measures.framesPerEvaluation;
    const F = summary.task.frames;
    lines.push(
      `policy: best = the final deterministic policy's mean reward over all ${F} frame(s) (its own knobs per frame), like a black-box agent's best knobs; ` +
        `evals in evaluations of ${S} frame(s) = ${S} visits of one frame (a policy run: ${policyVisitBudget(summary.budget, S, F)} visits + ${F} frames for its final policy); ` +
        'convergence: best mean reward over a complete pass over the frames, then the final policy',
    );
    // Where the policy runs started: a warm start changes what their figures mean, so it is said next to them.
    const init = summary.policyInit ?? null;
    lines.push(
      init
        ? `policy runs started at the static policy ${init.source} (--init-policy): ${Object.entries(init.knobs).map(([k, v]) => `${k} ${typeof v === 'number' ? f(v) : String(v)}`).join(', ')}`
        : 'policy runs started from scratch (no --init-policy)',
    );
  }
  if (summary.best) lines.push(`best of all: ${f(summary.best.total)} (${summary.best.agent}, seed ${summary.best.seed})`);
  for (const t of summary.tests) {
    if (t.p < 0.05) lines.push(`Mann–Whitney: ${t.a} vs ${t.b}: p = ${t.p.toPrecision(3)} (P(${t.a} > ${t.b}) = ${f(t.effect, 2)})`);
  }
  return lines.join('\n');
}
