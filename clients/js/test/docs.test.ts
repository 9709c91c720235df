/**
 * docs/js-client.md shows only code that compiles and runs: every TypeScript block in it is a
 * whole file of examples/ (type-checked by `npm test`, several run by the integration test).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES_DIR = join(PACKAGE_DIR, 'examples');
const GUIDE = readFileSync(join(PACKAGE_DIR, '../../docs/js-client.md'), 'utf8');

const examples = readdirSync(EXAMPLES_DIR).map((name) => ({
  name,
  source: readFileSync(join(EXAMPLES_DIR, name), 'utf8').trim(),
}));
const codeBlocks = [...GUIDE.matchAll(/```(ts|tsx)\n([\s\S]*?)```/g)].map((match) => (match[2] ?? '').trim());

describe('docs/js-client.md', () => {
  it.each(examples)('shows examples/$name in full', ({ source }) => {
    expect(codeBlocks).toContain(source);
  });

  it('has no TypeScript block that is not an example file', () => {
    const sources = new Set(examples.map((example) => example.source));
    expect(codeBlocks.filter((block) => !sources.has(block))).toEqual([]);
  });
});
