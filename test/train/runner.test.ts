import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/registry.js';
import type { AskTellAgent } from '../../agents/types.js';
import { StudyStore, effectiveStatus } from '../../src/store/index.js';
import { framesForGeneration, runStudy, type EvaluateFn, type RunStudyOptions } from '../../src/train/runner.js';
import { Rng } from '../../src/util/rng.js';
import { TOY_SPACE, comparable, toyEvaluate } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'samstar-runner-'));

/** A tiny local random search (a population of `batch` per ask), to show the runner needs nothing but the contract. */
class TinyRandom implements AskTellAgent {
  readonly name = 'tiny-random';
  private readonly rng: Rng;
  private bestSeen: { x: number[]; reward: number } | undefined;
  constructor(readonly dimension: number, seed: number, private readonly batch = 3) {
    this.rng = new Rng(seed);
  }
  ask(): number[][] {
    // Sample around the best so far half the time: the state depends on what was told.
    return Array.from({ length: this.batch }, () =>
      Array.from({ length: this.dimension }, (_, i) =>
        this.bestSeen && this.rng.next() < 0.5 ? Math.max(-1, Math.min(1, this.bestSeen.x[i] + 0.2 * this.rng.normal())) : this.rng.uniform(-1, 1),
      ),
    );
  }
  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    rewards.forEach((r, j) => {
      if (Number.isFinite(r) && (!this.bestSeen || r > this.bestSeen.reward)) this.bestSeen = { x: [...candidates[j]], reward: r };
    });
  }
  stop(): string[] {
    return [];
  }
  best() {
    return this.bestSeen;
  }
}

function setup(path: string, seed = 7, budget = 30): { store: StudyStore; studyId: number } {
  const store = StudyStore.open(path);
  const study = store.studies()[0] ?? store.createStudy({ name: 'toy', config: { toy: true }, seed, agent: 'cmaes', knobSpace: TOY_SPACE.toJSON(), budget });
  return { store, studyId: study.id };
}

function cmaes(seed: number, budget: number): AskTellAgent {
  return createAgent('cmaes', TOY_SPACE.searchBounds(), seed, { popsize: 6 }, { budget });
}

function baseOptions(store: StudyStore, studyId: number, agent: AskTellAgent, budget: number, evaluate: EvaluateFn = toyEvaluate()): RunStudyOptions {
  return { store, studyId, agent, budget, toKnobs: (x) => TOY_SPACE.fromNormalised(x), evaluate, frames: { count: 5, perEvaluation: 3, seed: 7 } };
}

describe('runStudy', () => {
  it('spends exactly the budget (a partial last generation is evaluated, not told), stores every evaluation, calls back', async () => {
    const { store, studyId } = setup(join(tmp(), 'study.sqlite'));
    const events: number[] = [];
    const generations: number[] = [];
    const result = await runStudy({
      ...baseOptions(store, studyId, cmaes(7, 20), 20),
      onEvaluation: (e) => events.push(e.done),
      onGeneration: (g) => generations.push(g.evaluations.length),
    });
    expect(result.status).toBe('finished');
    expect(result.stopReasons).toContain('budget');
    expect(result.evaluations).toBe(20);
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(generations).toEqual([6, 6, 6, 2]);
    const stored = store.evaluations(studyId);
    expect(stored.map((e) => e.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(stored[19]).toMatchObject({ generation: 3, candidate: 1 });
    // Every candidate of a generation ran on the same frame subset.
    for (const e of stored) expect(e.frames).toEqual(framesForGeneration({ count: 5, perEvaluation: 3, seed: 7 }, e.generation));
    expect(new Set(stored.map((e) => e.frames.join())).size).toBeGreaterThan(1);
    expect(store.study(studyId).status).toBe('finished');
    expect(result.best!.total).toBe(Math.max(...stored.map((e) => e.total)));
    store.close();
  });

  it('works with any AskTellAgent and stops when the agent says so', async () => {
    const { store, studyId } = setup(join(tmp(), 'study.sqlite'));
    const agent = new TinyRandom(3, 1);
    let asked = 0;
    const stopping: AskTellAgent = {
      name: agent.name,
      dimension: agent.dimension,
      ask: () => ((asked += 3), agent.ask()),
      tell: (c, r) => agent.tell(c, r),
      stop: () => (asked >= 12 ? ['enough'] : []),
      best: () => agent.best(),
    };
    const result = await runStudy(baseOptions(store, studyId, stopping, 50));
    expect(result.stopReasons).toEqual(['enough']);
    expect(result.evaluations).toBe(12);
    store.close();
  });

  it('on abort leaves a valid store marked interrupted; resume replays and ends with the evaluations of an uninterrupted run', async () => {
    const budget = 40;
    const full = setup(join(tmp(), 'study.sqlite'));
    await runStudy(baseOptions(full.store, full.studyId, cmaes(7, budget), budget));
    const expected = comparable(full.store.evaluations(full.studyId));
    full.store.close();

    for (const stopAt of [1, 9, 12, 23]) {
      const path = join(tmp(), 'study.sqlite');
      const first = setup(path);
      const controller = new AbortController();
      const partial = await runStudy({
        ...baseOptions(first.store, first.studyId, cmaes(7, budget), budget),
        signal: controller.signal,
        onEvaluation: (e) => e.done === stopAt && controller.abort(),
      });
      expect(partial.status).toBe('interrupted');
      expect(first.store.study(first.studyId).status).toBe('interrupted');
      expect(first.store.evaluationCount(first.studyId)).toBe(stopAt);
      first.store.close();

      const again = setup(path);
      const replayed: boolean[] = [];
      const resumed = await runStudy({ ...baseOptions(again.store, again.studyId, cmaes(7, budget), budget), onEvaluation: (e) => replayed.push(e.replayed) });
      expect(resumed.status).toBe('finished');
      expect(resumed.replayed).toBe(stopAt);
      expect(replayed.filter(Boolean).length).toBe(stopAt);
      expect(comparable(again.store.evaluations(again.studyId))).toEqual(expected);
      again.store.close();
    }
  });

  it('evaluates a generation concurrently with the same results', async () => {
    const one = setup(join(tmp(), 'study.sqlite'));
    await runStudy(baseOptions(one.store, one.studyId, cmaes(3, 18), 18, toyEvaluate({ delayMs: 1 })));
    const three = setup(join(tmp(), 'study.sqlite'));
    await runStudy({ ...baseOptions(three.store, three.studyId, cmaes(3, 18), 18, toyEvaluate({ delayMs: 1 })), concurrency: 3 });
    expect(comparable(three.store.evaluations(three.studyId))).toEqual(comparable(one.store.evaluations(one.studyId)));
    one.store.close();
    three.store.close();
  });

  it('a killed child process loses nothing it stored; resuming ends with the uninterrupted run', async () => {
    const budget = 36;
    const full = setup(join(tmp(), 'study.sqlite'), 11, budget);
    await runStudy({ ...baseOptions(full.store, full.studyId, cmaes(11, budget), budget), frames: { count: 5, perEvaluation: 3, seed: 11 } });
    const expected = comparable(full.store.evaluations(full.studyId));
    full.store.close();

    const path = join(tmp(), 'study.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'child-run.ts'), path, String(budget), '15', '11'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
    // Wait until the child has stored some evaluations (through a second, read-only connection), then kill it hard.
    let count = 0;
    for (let i = 0; i < 1500 && count < 10; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        const reader = StudyStore.open(path, { readonly: true });
        count = reader.studies()[0]?.evaluations ?? 0;
        reader.close();
      } catch {
        // not created yet
      }
    }
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);
    const left = setup(path, 11, budget);
    const killedAt = left.store.evaluationCount(left.studyId);
    expect(killedAt).toBeGreaterThanOrEqual(10);
    expect(killedAt).toBeLessThan(budget);
    expect(left.store.study(left.studyId).status).toBe('running');
    expect(effectiveStatus(left.store.study(left.studyId))).toBe('interrupted');
    const resumed = await runStudy({ ...baseOptions(left.store, left.studyId, cmaes(11, budget), budget), frames: { count: 5, perEvaluation: 3, seed: 11 } });
    expect(resumed.replayed).toBe(killedAt);
    expect(comparable(left.store.evaluations(left.studyId))).toEqual(expected);
    left.store.close();
  }, 60_000);

  it('stores NaN rewards and failed evaluations, tells them as NaN, and goes on; stops after repeated failures', async () => {
    const { store, studyId } = setup(join(tmp(), 'study.sqlite'));
    const told: number[] = [];
    const agent = cmaes(5, 24);
    const spy: AskTellAgent = {
      name: agent.name,
      dimension: agent.dimension,
      ask: () => agent.ask(),
      tell: (c, r) => {
        told.push(...r);
        agent.tell(c, r);
      },
      stop: () => agent.stop(),
      best: () => agent.best(),
    };
    const result = await runStudy(baseOptions(store, studyId, spy, 24, toyEvaluate({ nanWhen: (k) => Number(k.a) < 0.3, throwWhen: (k) => Number(k.a) > 0.9 })));
    const stored = store.evaluations(studyId);
    const nan = stored.filter((e) => Number.isNaN(e.total));
    expect(nan.length).toBeGreaterThan(0);
    expect(result.nan).toBe(nan.length);
    expect(told.filter(Number.isNaN).length).toBe(nan.length);
    expect(store.study(studyId).failed).toBe(nan.length);
    for (const e of nan) expect(e.error).toMatch(/NaN|toy failure/);
    expect(result.best && Number.isFinite(result.best.total)).toBe(true);
    store.close();

    const failing = setup(join(tmp(), 'study.sqlite'));
    await expect(runStudy({ ...baseOptions(failing.store, failing.studyId, cmaes(5, 24), 24, toyEvaluate({ throwWhen: () => true })), maxConsecutiveFailures: 4 })).rejects.toThrow(
      /4 evaluations in a row failed.*toy failure/,
    );
    expect(failing.store.study(failing.studyId).status).toBe('failed');
    expect(failing.store.evaluationCount(failing.studyId)).toBe(4);
    failing.store.close();
  });

  it('refuses to resume with an agent that asks something else, and a budget below the stored history', async () => {
    const path = join(tmp(), 'study.sqlite');
    const first = setup(path);
    await runStudy(baseOptions(first.store, first.studyId, cmaes(7, 12), 12));
    await expect(runStudy(baseOptions(first.store, first.studyId, cmaes(8, 20), 20))).rejects.toThrow(/resume: generation 0, candidate 0: the agent asked/);
    expect(first.store.study(first.studyId).status).toBe('finished');
    await expect(runStudy(baseOptions(first.store, first.studyId, cmaes(7, 6), 6))).rejects.toThrow(/already holds 12 evaluations/);
    // A larger budget continues the same study.
    const more = await runStudy(baseOptions(first.store, first.studyId, cmaes(7, 18), 18));
    expect(more.replayed).toBe(12);
    expect(first.store.evaluationCount(first.studyId)).toBe(18);
    first.store.close();
  });
});
