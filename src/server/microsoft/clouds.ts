/**
 * The Microsoft clouds Tenantgate can connect to, as data: adding a cloud is one entry in CLOUD_INFO (and the
 * compiler then names every `Record<Cloud, …>` table that lacks it). Endpoints come from configuration: production
 * uses the defaults below, the sandbox cloud supplies its own base URLs. Paths appended to these bases are
 * exactly Microsoft's (`{login}/{tenant}/oauth2/v2.0/...`, `{graph}/v1.0/...`).
 */
export type Cloud = 'global' | 'usgov' | 'china';

/** Every cloud, as a tuple (usable by `z.enum`). */
export const CLOUDS = Object.freeze(['global', 'usgov', 'china'] as const) satisfies readonly Cloud[];

export interface CloudEndpoints {
  /** Login host base URL without a trailing slash, e.g. `https://login.microsoftonline.com`. */
  login: string;
  /** Graph base URL of the cloud's default Graph host, without `/v1.0` and without a trailing slash. */
  graph: string;
  /**
   * Where each Graph host name of this cloud answers (host name as a discovery document's `msgraph_host` gives
   * it → base URL). Production: `https://{host}`; the sandbox maps each host to one of its path prefixes. A host
   * missing here is served at `graph`.
   */
  graphHosts?: Record<string, string>;
}

export interface CloudInfo {
  label: string;
  /** The environment variables of this cloud's app registration. */
  env: { clientId: string; clientSecret: string };
  /** Login host name (no scheme), as `cloud_instance_name` gives the cloud: `login.` + that name. */
  loginHost: string;
  /** `cloud_instance_name` of the cloud's discovery documents. */
  cloudInstanceName: string;
  /** Graph host names of the cloud, the default first (the US Government cloud also serves DoD tenants elsewhere). */
  graphHosts: readonly [string, ...string[]];
  /** Where the app registration is made (README and `npm run manifest`). */
  registrationPortal: string;
}

export const CLOUD_INFO: Readonly<Record<Cloud, CloudInfo>> = Object.freeze({
  global: {
    label: 'Global Microsoft 365',
    env: { clientId: 'MICROSOFT_CLIENT_ID', clientSecret: 'MICROSOFT_CLIENT_SECRET' },
    loginHost: 'login.microsoftonline.com',
    cloudInstanceName: 'microsoftonline.com',
    graphHosts: ['graph.microsoft.com'],
    registrationPortal: 'the Microsoft Entra admin center, https://entra.microsoft.com (App registrations)',
  },
  usgov: {
    label: 'Microsoft 365 U.S. Government',
    env: { clientId: 'MICROSOFT_USGOV_CLIENT_ID', clientSecret: 'MICROSOFT_USGOV_CLIENT_SECRET' },
    loginHost: 'login.microsoftonline.us',
    cloudInstanceName: 'microsoftonline.us',
    graphHosts: ['graph.microsoft.us', 'dod-graph.microsoft.us'],
    registrationPortal: 'the Azure Government portal, https://portal.azure.us (App registrations)',
  },
  china: {
    label: 'Microsoft 365 operated by 21Vianet',
    env: { clientId: 'MICROSOFT_CHINA_CLIENT_ID', clientSecret: 'MICROSOFT_CHINA_CLIENT_SECRET' },
    loginHost: 'login.partner.microsoftonline.cn',
    cloudInstanceName: 'partner.microsoftonline.cn',
    graphHosts: ['microsoftgraph.chinacloudapi.cn'],
    registrationPortal: 'the Azure portal operated by 21Vianet, https://portal.azure.cn (App registrations)',
  },
});

export function isCloud(value: unknown): value is Cloud {
  return typeof value === 'string' && (CLOUDS as readonly string[]).includes(value);
}

/** The Graph host every profile of this cloud used before hosts came from discovery (migration 008's backfill). */
export function defaultGraphHost(cloud: Cloud): string {
  return CLOUD_INFO[cloud].graphHosts[0];
}

/** The cloud whose `cloud_instance_name` this is, if Tenantgate knows it. */
export function cloudByInstanceName(name: string): Cloud | undefined {
  return CLOUDS.find((c) => CLOUD_INFO[c].cloudInstanceName === name.toLowerCase());
}

/** The cloud that serves this Graph host name, if any. */
export function cloudByGraphHost(host: string): Cloud | undefined {
  return CLOUDS.find((c) => CLOUD_INFO[c].graphHosts.includes(host.toLowerCase()));
}

/** Production endpoints for every cloud. */
export function defaultCloudEndpoints(): Record<Cloud, CloudEndpoints> {
  return Object.fromEntries(
    CLOUDS.map((c) => {
      const info = CLOUD_INFO[c];
      const graphHosts = Object.fromEntries(info.graphHosts.map((host) => [host, `https://${host}`]));
      return [c, { login: `https://${info.loginHost}`, graph: `https://${info.graphHosts[0]}`, graphHosts }];
    }),
  ) as Record<Cloud, CloudEndpoints>;
}

/**
 * The Graph base URL of a profile: its stored host mapped through the deployment's table (live: `https://host`,
 * sandbox: a path prefix), so the same code reads Graph in both. Unknown or missing hosts use the cloud's default.
 */
export function graphBaseFor(endpoints: CloudEndpoints, graphHost: string | null | undefined): string {
  const mapped = graphHost ? endpoints.graphHosts?.[graphHost.toLowerCase()] : undefined;
  return (mapped ?? endpoints.graph).replace(/\/+$/, '').replace(/\/v1\.0$/, '');
}

/**
 * Normalises a configured endpoint pair: must be absolute http(s) URLs, no query or fragment; trailing
 * slashes and a trailing `/v1.0` on the Graph base are removed.
 */
export function normalizeCloudEndpoints(endpoints: CloudEndpoints): CloudEndpoints {
  const normalized: CloudEndpoints = {
    login: normalizeBase(endpoints.login, 'login'),
    graph: normalizeBase(endpoints.graph, 'graph').replace(/\/v1\.0$/, ''),
  };
  if (endpoints.graphHosts) {
    normalized.graphHosts = Object.fromEntries(
      Object.entries(endpoints.graphHosts).map(([host, base]) => [host.toLowerCase(), normalizeBase(base, `graphHosts.${host}`).replace(/\/v1\.0$/, '')]),
    );
  }
  return normalized;
}

function normalizeBase(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`Cloud endpoint "${field}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`Cloud endpoint "${field}" must use http or https`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError(`Cloud endpoint "${field}" must not carry a query, fragment or credentials`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
