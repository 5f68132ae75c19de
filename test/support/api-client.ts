/**
 * A small API client for integration tests: keeps the session cookie and the CSRF token like the web
 * app does, and answers status + parsed JSON.
 */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  /** Cookies by name (the portal's session cookie and the round-trip binding cookie). */
  readonly jar = new Map<string, string>();
  csrfToken: string | undefined;

  get cookie(): string | undefined {
    const session = this.jar.get('tg_session');
    return session ? `tg_session=${session}` : undefined;
  }

  set cookie(value: string | undefined) {
    if (!value) this.jar.delete('tg_session');
    else this.jar.set('tg_session', value.replace(/^tg_session=/, ''));
  }

  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && typeof body !== 'string') h['content-type'] = 'application/json';
    if (typeof body === 'string' && !h['content-type']) h['content-type'] = 'application/json';
    if (this.jar.size && !h.cookie) h.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrfToken && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrfToken;
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
    for (const setCookie of res.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value && !/expires=Thu, 01 Jan 1970/i.test(setCookie)) this.jar.set(name, value);
      else this.jar.delete(name);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (HTML page, redirect)
    }
    const maybe = parsed as { csrfToken?: string } | null;
    if (maybe && typeof maybe === 'object' && typeof maybe.csrfToken === 'string') this.csrfToken = maybe.csrfToken;
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = any>(path: string, headers?: Record<string, string>) => this.request<T>('GET', path, undefined, headers);
  post = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('POST', path, body ?? {}, headers);
  patch = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PATCH', path, body ?? {}, headers);
  put = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PUT', path, body ?? {}, headers);
  delete = <T = any>(path: string, headers?: Record<string, string>) => this.request<T>('DELETE', path, undefined, headers);
}

let counter = 0;
/** Signs up a new partner and answers a client signed in as its tenant owner. */
export async function signUpPartner(baseUrl: string, name = 'Acme Partners'): Promise<{ client: ApiClient; email: string; password: string; partnerId: string; userId: string }> {
  const client = new ApiClient(baseUrl);
  const email = `owner${Date.now()}${counter++}@acme-partner.test`;
  const password = 'violet-harbor-lantern-42';
  const res = await client.post('/api/signup', { organizationName: name, email, password });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { client, email, password, partnerId: res.body.partner.id, userId: res.body.user.id };
}
