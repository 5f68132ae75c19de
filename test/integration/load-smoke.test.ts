import { describe, expect, it } from 'vitest';
import { formatReport, runLoad } from '../load/run-load';

/** A 10-second run of `npm run load` with a few clients: no 5xx, and the stored state matches the answers. */
describe('load smoke run', () => {
  it('10 signed-in clients for 10 s on SQLite: no 5xx, the final state is what the successful answers imply', async () => {
    const report = await runLoad({ engine: 'sqlite', clients: 10, seconds: 10 });
    console.log(formatReport(report));
    expect(report.serverErrors).toBe(0);
    expect(report.inconsistencies).toEqual([]);
    expect(report.routes.map((r) => r.route)).toEqual(expect.arrayContaining(['GET /api/users', 'GET /api/app-profiles', 'POST /api/users', 'PATCH /api/app-profiles/{id}']));
    expect(report.requests).toBeGreaterThan(50);
  }, 60_000);
});
