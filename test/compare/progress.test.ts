import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CompareProgress, formatDuration } from '../../src/compare/progress.js';

function sink(): { stream: Writable & { isTTY?: boolean }; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = false;
  return { stream, lines };
}

describe('compare progress', () => {
  it('estimates the time left from live evaluations, and gives back the budget of a run that stops early', () => {
    let now = 0;
    const { stream, lines } = sink();
    const p = new CompareProgress(['cmaes', 'grid'], 2, 10, { stream, now: () => now });
    expect(p.counts).toEqual({ done: 0, total: 40 });
    expect(p.eta()).toBeNull();
    p.runStart();
    for (let i = 1; i <= 10; i++) {
      now += 500;
      p.evaluation('cmaes', 1, i, false, 0.5 + i / 100);
    }
    // 10 evaluations in 5 s: 0.5 s each, 30 left → 15 s.
    expect(p.eta()).toBeCloseTo(15, 10);
    p.runEnd('cmaes', 1, 10, 10);
    // grid stops after 4 of 10: its 6 unused evaluations leave the total.
    p.runStart();
    for (let i = 1; i <= 4; i++) {
      now += 500;
      p.evaluation('grid', 1, i, false, 0.4);
    }
    p.runEnd('grid', 1, 4, 10);
    expect(p.counts).toEqual({ done: 14, total: 34 });
    expect(p.eta()).toBeCloseTo(20 * 0.5, 10);
    // Replayed evaluations count as done but not in the time per evaluation.
    p.evaluation('cmaes', 2, 5, true, 0.7);
    expect(p.counts.done).toBe(19);
    expect(p.eta()).toBeCloseTo(15 * 0.5, 10);
    expect(lines.some((l) => /^compare: \d+\/\d+ evaluations \(\d+ %\) · about .* left · cmaes \d+\/20 best 0\.7000 · grid 4\/14 best 0\.4000$/.test(l))).toBe(true);
    p.stop();
  });

  it('counts a policy agent\'s visits on its bar and as 1/S evaluation overall', () => {
    let now = 0;
    const { stream, lines } = sink();
    // S = 4 frames per evaluation, budget 3: cmaes 3 evaluations per run; ppo 3 × 4 − 4 = 8 visits (+ its final policy, not counted).
    const p = new CompareProgress(['cmaes', 'ppo'], 1, 3, { stream, now: () => now, runBudget: { ppo: 8 }, weight: { ppo: 0.25 }, unit: { ppo: 'visits' } });
    expect(p.counts).toEqual({ done: 0, total: 5 });
    p.runStart();
    for (let i = 1; i <= 3; i++) {
      now += 1000;
      p.evaluation('cmaes', 1, i, false, 0.5);
    }
    p.runEnd('cmaes', 1, 3, 3);
    for (let i = 1; i <= 6; i++) {
      now += 250;
      p.evaluation('ppo', 1, i, false, 0.1 * i);
    }
    // 4.5 evaluations' worth in 4.5 s: 1 s each, 0.5 left.
    expect(p.counts).toEqual({ done: 4.5, total: 5 });
    expect(p.eta()).toBeCloseTo(0.5, 10);
    expect(p.line()).toMatch(/^compare: 4\.5\/5 evaluations \(90 %\) · about 1 s left · cmaes 3\/3 best 0\.5000 · ppo 6\/8 visits best 0\.6000$/);
    // Stopped after 6 visits: the 2 unused ones (half an evaluation) leave the total.
    p.runEnd('ppo', 1, 6, 8);
    expect(p.counts).toEqual({ done: 4.5, total: 4.5 });
    expect(lines.length).toBeGreaterThan(0);
    p.stop();
  });

  it('prints nothing when disabled, and formats durations', () => {
    const { stream, lines } = sink();
    const p = new CompareProgress(['cmaes'], 1, 4, { stream, enabled: false });
    p.evaluation('cmaes', 1, 4, false, 1);
    p.runEnd('cmaes', 1, 4, 4);
    expect(lines).toEqual([]);
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 05 s');
    expect(formatDuration(3 * 3600 + 61)).toBe('3 h 01 min');
  });
});
