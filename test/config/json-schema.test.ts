import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCHEMA_FILES, SCHEMA_NAMES, schemaText } from '../../src/config/json-schema.js';

/**
 * The JSON Schemas in schemas/ are generated from the zod schemas: they must be current
 * (regenerate with `npm run schemas`), every shipped config must name and pass its schema,
 * and a schema must refuse what samstar refuses (an unknown key, a wrong type).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ajv = new Ajv2020({ strict: false, allErrors: true });

describe('config JSON Schemas', () => {
  it.each(SCHEMA_NAMES)('schemas/%s.schema.json is current (npm run schemas regenerates it)', (name) => {
    expect(readFileSync(join(root, SCHEMA_FILES[name]), 'utf8')).toBe(schemaText(name));
  });

  it.each([
    ['tasks', 'task'],
    ['rewards', 'reward'],
  ] as const)('every configs/%s/*.yaml references and passes the %s schema', (folder, name) => {
    const validate = ajv.compile(JSON.parse(schemaText(name)));
    const files = readdirSync(join(root, 'configs', folder)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(join(root, 'configs', folder, file), 'utf8');
      expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=../../${SCHEMA_FILES[name]}`);
      const ok = validate(parse(text));
      expect(ok, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('refuses an unknown key, a bad pixel-size shape and an unknown term field', () => {
    const task = ajv.compile(JSON.parse(schemaText('task')));
    const good = { data: { frames: 'x/*.png', pixel_size: '0.65um' }, segmenter: { tune: ['pred_iou_thresh'] }, reward: 'r.yaml', agent: 'cmaes', budget: 5 };
    expect(task(good)).toBe(true);
    expect(task({ ...good, data: { ...good.data, frame: 'typo' } })).toBe(false);
    expect(task({ ...good, data: { ...good.data, pixel_size: { value: 1, units: 'um' } } })).toBe(false);
    const reward = ajv.compile(JSON.parse(schemaText('reward')));
    expect(reward({ terms: { count: { type: 'count', expected_count: 10 } }, total: 'count' })).toBe(true);
    expect(reward({ terms: { count: { type: 'count', expected_cuont: 10 } }, total: 'count' })).toBe(false);
  });
});
