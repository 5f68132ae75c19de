import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchRow } from './types';

/**
 * `npm run bench [name...]`: runs every test/bench/*.bench.ts (or the named ones) one after the other,
 * prints a table, and writes it to BENCHMARKS.md. Absolute timings are noisy on shared machines, so
 * each benchmark compares against a baseline it measures in the same run.
 */
const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

const sections: string[] = [];
let failed = 0;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  console.log(`\n## ${name}`);
  const started = Date.now();
  const mod = (await import(path.join(dir, file))) as { default: () => Promise<BenchRow[]> };
  const rows = await mod.default();
  console.log(rows.map((r) => `  ${r.ok ? 'ok ' : 'NO '} ${r.name}: ${round(r.value)} ${r.unit} (target ${r.target})`).join('\n'));
  failed += rows.filter((r) => !r.ok).length;
  sections.push(
    [`## ${name}`, '', '| measure | value | unit | target | ok |', '|---|---:|---|---|---|', ...rows.map((r) => `| ${r.name} | ${round(r.value)} | ${r.unit} | ${r.target} | ${r.ok ? 'yes' : '**no**'} |`), '', `_(${((Date.now() - started) / 1000).toFixed(1)} s)_`].join('\n'),
  );
}

const header = `# Benchmarks\n\nWritten by \`npm run bench\` on ${new Date().toISOString()} (Node ${process.version}, ${(await import('node:os')).cpus().length} cores). Ratios compare against a baseline measured in the same run.\n`;
writeFileSync(path.join(dir, '../../BENCHMARKS.md'), `${header}\n${sections.join('\n\n')}\n`);
console.log(`\n${failed === 0 ? 'All figures met their targets.' : `${failed} figure(s) missed their target.`} Written to BENCHMARKS.md`);
process.exit(0);

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}
