/**
 * The Microsoft clouds Tenantgate can connect to. Endpoints come from configuration: production uses the
 * defaults below, the sandbox cloud supplies its own base URLs. Paths appended to these bases are exactly
 * Microsoft's (`{login}/{tenant}/oauth2/v2.0/...`, `{graph}/v1.0/...`).
 */
export type Cloud = 'global' | 'usgov';

export const CLOUDS: readonly Cloud[] = Object.freeze(['global', 'usgov'] as const);

export interface CloudEndpoints {
  /** Login host base URL without a trailing slash, e.g. `https://login.microsoftonline.com`. */
  login: string;
  /** Graph base URL without `/v1.0` and without a trailing slash, e.g. `https://graph.microsoft.com`. */
  graph: string;
}

export interface CloudInfo {
  label: string;
  loginHostSuffix: '.com' | '.us';
  defaultEndpoints: CloudEndpoints;
}

export const CLOUD_INFO: Readonly<Record<Cloud, CloudInfo>> = Object.freeze({
  global: {
    label: 'Global Microsoft 365',
    loginHostSuffix: '.com',
    defaultEndpoints: { login: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' },
  },
  usgov: {
    label: 'Microsoft 365 U.S. Government',
    loginHostSuffix: '.us',
    defaultEndpoints: { login: 'https://login.microsoftonline.us', graph: 'https://graph.microsoft.us' },
  },
});

export function isCloud(value: unknown): value is Cloud {
  return typeof value === 'string' && (CLOUDS as readonly string[]).includes(value);
}

/** Production endpoints for every cloud. */
export function defaultCloudEndpoints(): Record<Cloud, CloudEndpoints> {
  return {
    global: { ...CLOUD_INFO.global.defaultEndpoints },
    usgov: { ...CLOUD_INFO.usgov.defaultEndpoints },
  };
}

/**
 * Normalises a configured endpoint pair: must be absolute http(s) URLs, no query or fragment; trailing
 * slashes and a trailing `/v1.0` on the Graph base are removed.
 */
export function normalizeCloudEndpoints(endpoints: CloudEndpoints): CloudEndpoints {
  return {
    login: normalizeBase(endpoints.login, 'login'),
    graph: normalizeBase(endpoints.graph, 'graph').replace(/\/v1\.0$/, ''),
  };
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
