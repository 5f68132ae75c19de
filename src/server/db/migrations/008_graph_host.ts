import type { Kysely } from 'kysely';

/** The columns this migration reads and fills (its own view of the schema at this point). */
interface Tables008 {
  app_profiles: { cloud: string; graph_host: string };
}

/** The default Graph host of each cloud at the time of this migration (profiles made before hosts came from discovery). */
const DEFAULT_GRAPH_HOST: Record<string, string> = {
  global: 'graph.microsoft.com',
  usgov: 'graph.microsoft.us',
  china: 'microsoftgraph.chinacloudapi.cn',
};

// Immutable once landed. Imports nothing from the app.
export async function up(db: Kysely<Tables008>): Promise<void> {
  // The Graph host of the profile's tenant, from its discovery document at consent (DoD tenants: dod-graph.microsoft.us).
  await db.schema.alterTable('app_profiles').addColumn('graph_host', 'text', (c) => c.notNull().defaultTo('')).execute();
  for (const [cloud, host] of Object.entries(DEFAULT_GRAPH_HOST)) {
    await db.updateTable('app_profiles').set({ graph_host: host }).where('cloud', '=', cloud).execute();
  }
}
