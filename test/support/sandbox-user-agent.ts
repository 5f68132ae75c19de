/**
 * A cookie-keeping HTTP "browser" for the sandbox cloud's sign-in pages, for tests that cannot run Chromium.
 *
 *   const ua = new SandboxUserAgent();
 *   const callback = await ua.authorize(authorizationUrl, { email: 'admin@contoso.com', password: 'Passw0rd!', consent: 'accept' });
 *   callback.searchParams.get('code') // or 'error' / 'error_description'
 *
 * `authorize` GETs the authorization URL and walks the pages the sandbox shows: it fills the sign-in form,
 * answers the account picker and the consent page, and on "Need admin approval" returns to the app. It stops at
 * the redirect to the client's `redirect_uri` and returns that URL WITHOUT requesting it. Pages it cannot get past
 * (an error page, a refused password, a disabled account) throw a `SandboxPageError` carrying the AADSTS code.
 * Cookies persist across calls, so a second `authorize` sees the browser session (account picker, prompt=none).
 */

export interface AuthorizeActions {
  /** Typed on the sign-in page (defaults to the prefilled login_hint). */
  email?: string;
  password?: string;
  /** Consent page answer; default 'accept'. */
  consent?: 'accept' | 'cancel';
  /** Account picker answer: an email of a signed-in account, or 'another'. Default: `email` if listed, else the first account. */
  pickAccount?: string | 'another';
}

export interface SandboxPage {
  url: string;
  status: number;
  heading: string;
  html: string;
}

export interface SandboxResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** Absolute redirect target for 3xx answers. */
  location: URL | null;
}

export class SandboxPageError extends Error {
  constructor(
    message: string,
    readonly page: SandboxPage,
    /** e.g. 'AADSTS50126', when the page names one. */
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'SandboxPageError';
  }
}

interface StoredCookie {
  value: string;
  path: string;
}

interface ParsedForm {
  action: string;
  fields: Record<string, string>;
  buttons: { name: string; value: string; label: string }[];
}

const MAX_STEPS = 25;

export class SandboxUserAgent {
  private readonly cookies = new Map<string, Map<string, StoredCookie>>();
  /** The last HTML page seen (for assertions on what the person would have read). */
  lastPage: SandboxPage | null = null;
  /** Every page heading walked through by the last `authorize`, in order (e.g. ['Sign in', 'Permissions requested']). */
  visited: string[] = [];

  async get(url: string): Promise<SandboxResponse> {
    return this.request('GET', url);
  }

  async authorize(authorizationUrl: string | URL, actions: AuthorizeActions = {}): Promise<URL> {
    const start = new URL(String(authorizationUrl));
    const redirectUri = start.searchParams.get('redirect_uri');
    const sandboxOrigin = start.origin;
    this.visited = [];
    let response = await this.request('GET', start.toString());
    let signInAttempts = 0;

    for (let step = 0; step < MAX_STEPS; step++) {
      if (response.location) {
        const target = response.location;
        if (redirectUri && isSameEndpoint(target, redirectUri)) return target;
        if (target.origin !== sandboxOrigin) return target;
        response = await this.request('GET', target.toString());
        continue;
      }
      const page = this.pageOf(response);
      this.visited.push(page.heading);
      const error = pageError(page.html);
      const form = parseForm(page.html, page.url);

      if (page.heading === 'Sign in' && form) {
        if (error) throw new SandboxPageError(`Sign-in refused: ${error}`, page, aadstsCode(error));
        if (signInAttempts++ > 0) throw new SandboxPageError('The sign-in page came back without an error.', page, null);
        const email = actions.email ?? form.fields.email;
        if (!email || actions.password === undefined) throw new SandboxPageError('The sandbox asks for credentials: pass { email, password }.', page, null);
        response = await this.post(form, { email, password: actions.password });
      } else if (page.heading === 'Pick an account' && form) {
        response = await this.post(form, {}, chooseAccount(form, actions));
      } else if (page.heading === 'Permissions requested' && form) {
        const decision = actions.consent ?? 'accept';
        response = await this.post(form, {}, form.buttons.find((b) => b.value === decision));
      } else if (page.heading === 'Need admin approval' && form) {
        response = await this.post(form, {}, form.buttons[0]);
      } else {
        throw new SandboxPageError(`Stopped at "${page.heading}": ${error ?? stripTags(page.html).slice(0, 300)}`, page, aadstsCode(error ?? page.html));
      }
    }
    throw new Error(`The sandbox sign-in did not finish within ${MAX_STEPS} steps.`);
  }

  /** Visits a logout URL; returns the post-logout redirect target (not requested) or the signed-out page's URL. */
  async logout(url: string | URL): Promise<URL> {
    const start = new URL(String(url));
    let response = await this.request('GET', start.toString());
    for (let step = 0; step < MAX_STEPS && response.location; step++) {
      if (response.location.origin !== start.origin) return response.location;
      response = await this.request('GET', response.location.toString());
    }
    if (response.location) return response.location;
    this.pageOf(response);
    return new URL(response.url);
  }

  private pageOf(response: SandboxResponse): SandboxPage {
    const heading = stripTags(/<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(response.body)?.[1] ?? '').trim();
    this.lastPage = { url: response.url, status: response.status, heading, html: response.body };
    return this.lastPage;
  }

  private async post(form: ParsedForm, values: Record<string, string>, button?: { name: string; value: string }): Promise<SandboxResponse> {
    const body = new URLSearchParams({ ...form.fields, ...values });
    if (button?.name) body.set(button.name, button.value);
    return this.request('POST', form.action, body);
  }

  private async request(method: 'GET' | 'POST', url: string, body?: URLSearchParams): Promise<SandboxResponse> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method, headers, body: body?.toString(), redirect: 'manual' });
    this.storeCookies(target, res.headers);
    const location = res.status >= 300 && res.status < 400 && res.headers.get('location') ? new URL(res.headers.get('location')!, target) : null;
    return { url: target.toString(), status: res.status, headers: res.headers, body: await res.text(), location };
  }

  private cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.host);
    if (!jar) return '';
    return [...jar]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private storeCookies(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.split('=')[1];
      const jar = this.cookies.get(url.host) ?? new Map<string, StoredCookie>();
      this.cookies.set(url.host, jar);
      if (attr('max-age') === '0' || value === '') jar.delete(name);
      else jar.set(name, { value, path: attr('path') ?? '/' });
    }
  }
}

function isSameEndpoint(target: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return target.origin === expected.origin && target.pathname === expected.pathname;
}

function chooseAccount(form: ParsedForm, actions: AuthorizeActions) {
  const accounts = form.buttons.filter((b) => b.value !== 'another');
  const another = form.buttons.find((b) => b.value === 'another');
  const wanted = actions.pickAccount ?? actions.email;
  if (wanted === 'another') return another;
  if (wanted) return accounts.find((b) => b.label.toLowerCase().includes(wanted.toLowerCase())) ?? another;
  return accounts[0] ?? another;
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

function stripTags(html: string): string {
  return decodeEntities(html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).trim();
}

function attributesOf(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const match of tag.matchAll(/([\w-]+)="([^"]*)"/g)) result[match[1]] = decodeEntities(match[2]);
  return result;
}

function parseForm(html: string, pageUrl: string): ParsedForm | null {
  const match = /<form([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!match) return null;
  const action = new URL(attributesOf(match[1]).action ?? pageUrl, pageUrl).toString();
  const fields: Record<string, string> = {};
  for (const input of match[2].matchAll(/<input([^>]*)>/gi)) {
    const attrs = attributesOf(input[1]);
    if (attrs.name && attrs.type !== 'password') fields[attrs.name] = attrs.value ?? '';
  }
  const buttons = [...match[2].matchAll(/<button([^>]*)>([\s\S]*?)<\/button>/gi)].map((b) => {
    const attrs = attributesOf(b[1]);
    return { name: attrs.name ?? '', value: attrs.value ?? '', label: `${attrs['aria-label'] ?? ''} ${stripTags(b[2])}` };
  });
  return { action, fields, buttons };
}

function pageError(html: string): string | null {
  const match = /<p class="error"[^>]*>([\s\S]*?)<\/p>/i.exec(html);
  return match ? stripTags(match[1]) : null;
}

function aadstsCode(text: string | null): string | null {
  return text ? (/AADSTS\d+/.exec(text)?.[0] ?? null) : null;
}
