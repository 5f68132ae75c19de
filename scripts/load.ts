/**
 * `npm run load [-- --clients 200 --seconds 60 --engine sqlite|postgres]`: signed-in clients hammer a
 * fresh portal with a realistic mix and the figures per route are printed (see test/load/run-load.ts).
 * PostgreSQL needs DATABASE_URL (or TEST_DATABASE_URL): a fresh database is created on that server.
 */
import { parseArgs } from 'node:util';
import { formatReport, runLoad } from '../test/load/run-load';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '200' }, seconds: { type: 'string', default: '60' }, engine: { type: 'string', default: 'sqlite' } } });
const engine = values.engine === 'postgres' ? 'postgres' : 'sqlite';
if (values.engine !== engine) throw new Error(`--engine must be sqlite or postgres, not ${values.engine}`);
if (engine === 'postgres') {
  if (process.env.DATABASE_URL) process.env.TEST_DATABASE_URL ??= process.env.DATABASE_URL;
  if (!process.env.TEST_DATABASE_URL) throw new Error('--engine postgres needs DATABASE_URL (a server where a fresh database may be created)');
}
const report = await runLoad({ engine, clients: Number(values.clients), seconds: Number(values.seconds) }, (line) => console.log(line));
console.log(formatReport(report));
process.exitCode = report.serverErrors > 0 || report.inconsistencies.length > 0 ? 1 : 0;
