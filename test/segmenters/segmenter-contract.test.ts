import { describe, expect, it } from 'vitest';
import { SEGMENTERS, getSegmenter, loadSegmenter, segmenterKnobSpace } from '../../src/segmenters/registry.js';
import { tunedKnobSpace } from '../../src/config/task.js';
import { isSamstarError } from '../../src/util/errors.js';
import { createSegmenter, segmenterSpecOf } from '../../envs/segmenter-spec.js';
import { describeSegmenterContract } from './contract.js';

// Every registered segmenter, with its own example knobs (SAM on the reference model: vitest.config sets SAMSTAR_MODEL).
// A segmenter added to src/segmenters/registry.ts is checked here without touching this file.
for (const definition of SEGMENTERS) {
  describeSegmenterContract(definition.name, () => loadSegmenter(definition.name), definition.example);

  describe(`segmenter registry entry: ${definition.name}`, () => {
    it('declares the knob space the loaded segmenter has, under the name it reports', async () => {
      const segmenter = await loadSegmenter(definition.name);
      expect(segmenter.name).toBe(definition.name);
      expect(segmenter.knobs.toJSON()).toEqual(definition.knobSpace().toJSON());
      expect(segmenterKnobSpace(definition.name).toJSON()).toEqual(segmenter.knobs.toJSON());
      // Its default tuned knobs make a task's tuned space.
      const tuned = tunedKnobSpace({ segmenter: { name: definition.name, fixed: {}, tune: definition.defaultTune.map((name) => ({ name })) } });
      expect(tuned.names).toEqual([...definition.defaultTune]);
      // It can be rebuilt from plain data (worker threads): the options survive structured cloning.
      const options = definition.rebuildOptions(segmenter);
      expect(options).toBeDefined();
      expect(structuredClone(options)).toEqual(options);
      // …and the worker threads' spec (envs/segmenter-spec.ts) rebuilds the same segmenter from it.
      const spec = segmenterSpecOf(segmenter);
      expect(spec).toEqual({ kind: 'segmenter', name: definition.name, options });
      const rebuilt = await createSegmenter(structuredClone(spec!));
      expect(rebuilt.name).toBe(definition.name);
      expect(rebuilt.knobs.toJSON()).toEqual(segmenter.knobs.toJSON());
      await rebuilt.dispose();
      await segmenter.dispose();
    });

    it(definition.usesModel ? 'takes model files' : 'refuses model files it would ignore', async () => {
      if (definition.usesModel) return expect(definition.usesModel).toBe(true);
      const error = await loadSegmenter(definition.name, { encoder: 'e.onnx', decoder: 'd.onnx' }).catch((e: unknown) => e);
      expect(isSamstarError(error) && error.code).toBe('ARGUMENT_INVALID');
      expect(String((error as Error).message)).toContain(definition.name);
    });
  });
}

describe('segmenter registry', () => {
  it('names each segmenter once and refuses unknown names with a suggestion', () => {
    const names = SEGMENTERS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const error = (() => {
      try {
        getSegmenter('blob');
      } catch (e) {
        return e;
      }
    })();
    expect(isSamstarError(error) && error.code).toBe('ARGUMENT_INVALID');
    expect(String((error as Error).message)).toMatch(/unknown segmenter "blob"/);
    expect((error as { hint?: string }).hint).toMatch(/blobs/);
  });
});

// SAM with blob prompts runs through the same contract in test/segmenters/blob-prompts.test.ts (records, caches, particles found).
