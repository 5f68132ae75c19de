import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A doc comment belongs to the declaration right below it. Two in a row mean one was left behind when code moved
 * (a merge put a function between a comment and its own): editors then show the wrong text on the wrong function.
 */
describe('doc comments in src/server', () => {
  it('never stack: each stands right above the declaration it describes', () => {
    const root = path.resolve(__dirname, '../../src/server');
    const stacked: string[] = [];
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(path.join(root, file), 'utf8');
      for (const m of source.matchAll(/\*\/[ \t]*\r?\n[ \t]*\/\*\*/g)) stacked.push(`${file}:${source.slice(0, m.index).split('\n').length}`);
    }
    expect(stacked).toEqual([]);
  });
});
