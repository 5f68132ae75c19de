// Builds the web UI into dist/web with Vite, unless the build is already newer than every source file.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const sourceDir = join(repo, 'src', 'web');
const configFile = join(repo, 'vite.config.ts');
const builtIndex = join(repo, 'dist', 'web', 'index.html');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function builtMtime() {
  try {
    return statSync(builtIndex).mtimeMs;
  } catch {
    return -1;
  }
}

const built = builtMtime();
const sources = Math.max(newestMtime(sourceDir), newestMtime(configFile));

if (built > sources && process.env.FORCE_WEB_BUILD !== '1') {
  console.log('web: dist/web is up to date, build skipped');
} else {
  const { build } = await import('vite');
  const started = Date.now();
  await build({ configFile, logLevel: 'warn' });
  console.log(`web: built dist/web in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
