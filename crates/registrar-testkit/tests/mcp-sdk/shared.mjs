// What flow.mjs and cimd.mjs share: failing by step, reading the SDK's errors, a small browser
// that plays the user on Registrar's login and consent pages, the fetch that answers for the MCP
// server, and an in-memory OAuthClientProvider.

import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';

const script = basename(process.argv[1] ?? 'node');

/** Runs one step, so a failure names it. */
export async function step(name, action) {
  try {
    return await action();
  } catch (error) {
    fail(name, describe(error));
  }
}

export function fail(name, message) {
  process.stderr.write(`${script}: ${name}: ${message}\n`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** An SDK error as precisely as it can be told: the OAuth error code, or zod's issues. */
export function describe(error) {
  if (error?.issues) {
    return `${error.name}: the SDK refused the response: ${JSON.stringify(error.issues)}`;
  }
  if (error?.errorCode) {
    return `${error.name} (${error.errorCode}): ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The claims of a JWT, unverified: the Rust side verifies what it needs to. */
export function claims(jwt) {
  const parts = jwt.split('.');
  check(parts.length === 3, 'not a JWS compact serialisation');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** A browser of its own: a cookie jar for `issuer`, and fetch that stops at each redirect. */
function newBrowser(issuer) {
  const jar = new Map();
  const browser = {
    async request(url, init = {}) {
      const target = new URL(url);
      const headers = new Headers(init.headers);
      const cookies = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      if (cookies && target.origin === new URL(issuer).origin) {
        headers.set('cookie', cookies);
      }
      const response = await fetch(target, { ...init, headers, redirect: 'manual' });
      for (const line of setCookies(response.headers)) {
        const [pair, ...attributes] = line.split(';');
        const separator = pair.indexOf('=');
        const name = pair.slice(0, separator).trim();
        const value = pair.slice(separator + 1).trim();
        const expired = attributes.some(attribute => /^\s*max-age=0\s*$/i.test(attribute));
        if (expired || value === '') {
          jar.delete(name);
        } else {
          jar.set(name, value);
        }
      }
      const body = await response.text();
      return { url: target, status: response.status, location: response.headers.get('location'), body };
    },
    /** Submits the page's form: its hidden inputs, then `fields`. */
    async submit(page, fields) {
      const form = page.body.match(/<form\b[^>]*>/i)?.[0];
      check(form, `no form on the page (${page.status}): ${page.body.slice(0, 300)}`);
      const method = (attribute(form, 'method') ?? 'get').toUpperCase();
      check(method === 'POST', `the form's method is ${method}`);
      const action = new URL(attribute(form, 'action') ?? page.url.href, page.url);
      const body = new URLSearchParams();
      for (const input of page.body.match(/<input\b[^>]*>/gi) ?? []) {
        if (attribute(input, 'type')?.toLowerCase() === 'hidden') {
          body.append(attribute(input, 'name'), attribute(input, 'value') ?? '');
        }
      }
      for (const [name, value] of Object.entries(fields)) {
        body.append(name, value);
      }
      return browser.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    },
  };
  return browser;
}

/** Each `Set-Cookie` line; before node 18.14, fetch joins them with commas. */
function setCookies(headers) {
  if (typeof headers.getSetCookie === 'function') {
    return headers.getSetCookie();
  }
  return (headers.get('set-cookie') ?? '').split(/,(?=\s*[^;,=\s]+=)/).filter(line => line.trim());
}

function attribute(tag, name) {
  const match = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i'));
  return match ? unescapeHtml(match[1] ?? match[2]) : undefined;
}

function unescapeHtml(text) {
  return text
    .replace(/&#(\d+);/g, (_, code) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function hidden(page, name) {
  for (const input of page.body.match(/<input\b[^>]*>/gi) ?? []) {
    if (attribute(input, 'type')?.toLowerCase() === 'hidden' && attribute(input, 'name') === name) {
      return attribute(input, 'value');
    }
  }
  return undefined;
}

/** The text of the element with `id` on the page, unescaped; `null` when there is none. */
function textOf(page, id) {
  const text = page.body.match(new RegExp(`\\sid="${id}"[^>]*>([^<]*)<`))?.[1];
  return text === undefined ? null : unescapeHtml(text).trim();
}

/**
 * Signs in as `user` and allows, from the authorization URL to the redirect to the client, and
 * checks the redirect as the client's callback does: its issuer (RFC 9207) and its state.
 * Returns the code, the issuer, and what the consent page said about the client.
 */
export async function signInAndAllow({ issuer, user, redirectUrl, authorizationUrl, expectedState, pages }) {
  const browser = newBrowser(issuer);
  const login = await browser.request(authorizationUrl);
  pages.push({ page: 'login', status: login.status });
  check(login.status === 200, `the authorization URL answered ${login.status}: ${login.body.slice(0, 300)}`);
  check(/name="password"/.test(login.body), 'the authorization URL did not show the login page');
  check(hidden(login, 'csrf_token'), 'the login form has no csrf_token');
  check(hidden(login, 'authorization_request'), 'the login form has no authorization_request');

  const consent = await browser.submit(login, { username: user.username, password: user.password });
  pages.push({ page: 'consent', status: consent.status });
  const loginError = consent.body.match(/role="alert"[^>]*>([^<]*)</)?.[1];
  check(!loginError, `the login page says: ${loginError && unescapeHtml(loginError)} (${consent.status})`);
  check(consent.status === 200, `the login answered ${consent.status}: ${consent.body.slice(0, 300)}`);
  check(/name="decision"/.test(consent.body), 'the login did not lead to the consent page');
  check(hidden(consent, 'csrf_token'), 'the consent form has no csrf_token');
  const consentPage = {
    client_name: textOf(consent, 'client-name'),
    client_host: textOf(consent, 'client-host'),
    redirect_host: textOf(consent, 'redirect-host'),
  };

  const allowed = await browser.submit(consent, { decision: 'allow' });
  pages.push({ page: 'redirect', status: allowed.status });
  check(allowed.status === 303, `allowing answered ${allowed.status}: ${allowed.body.slice(0, 300)}`);
  check(allowed.location, 'the redirect has no Location');
  const location = new URL(allowed.location);
  check(
    `${location.origin}${location.pathname}` === redirectUrl,
    `the redirect goes to ${location.origin}${location.pathname}, not ${redirectUrl}`,
  );
  const error = location.searchParams.get('error');
  check(!error, `the authorization failed: ${error} ${location.searchParams.get('error_description') ?? ''}`);
  // RFC 9207: the response names its issuer, which must be the one the client discovered.
  check(location.searchParams.get('iss') === issuer, `iss is '${location.searchParams.get('iss')}'`);
  check(location.searchParams.get('state') === expectedState, 'state does not match');
  const code = location.searchParams.get('code');
  check(code, 'no code');
  return { code, iss: location.searchParams.get('iss'), consent: consentPage };
}

/**
 * The fetch auth() is given: the MCP server at `resource`'s origin answers only its RFC 9728
 * metadata, which names `issuer`; every other request must go to Registrar, and each one is
 * recorded in `requests` with its method and status.
 */
export function mcpServerFetch({ issuer, resource, requests }) {
  const protectedResource = { resource: resource.href, authorization_servers: [issuer] };
  const fetchFn = async (url, init) => {
    const target = new URL(url);
    const method = init?.method ?? 'GET';
    if (target.origin === resource.origin) {
      const found = target.pathname.startsWith('/.well-known/oauth-protected-resource');
      requests.push({ method, url: target.href, status: found ? 200 : 404 });
      return found
        ? Response.json(protectedResource)
        : new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } });
    }
    if (target.origin !== new URL(issuer).origin) {
      // Recorded before refusing: the SDK may swallow a failed fetch as a CORS refusal.
      requests.push({ method, url: target.href, refused: true });
      throw new Error(`auth() asked ${target.href}, which is neither the MCP server nor Registrar`);
    }
    const response = await fetch(url, init);
    requests.push({ method, url: target.href, status: response.status });
    return response;
  };
  return { fetchFn, protectedResource };
}

/**
 * What an MCP client keeps between runs, in memory: an OAuthClientProvider. With
 * `clientMetadataUrl`, the SDK may use that URL as the client id instead of registering.
 */
export class MemoryProvider {
  constructor({ redirectUrl, clientMetadata, clientMetadataUrl }) {
    this.redirectUrlValue = redirectUrl;
    this.clientMetadataValue = clientMetadata;
    if (clientMetadataUrl !== undefined) {
      this.clientMetadataUrl = clientMetadataUrl;
    }
    this.stored = {};
    this.redirects = [];
    this.states = [];
  }
  get redirectUrl() {
    return this.redirectUrlValue;
  }
  get clientMetadata() {
    return this.clientMetadataValue;
  }
  state() {
    const next = randomBytes(16).toString('base64url');
    this.states.push(next);
    return next;
  }
  clientInformation() {
    return this.stored.clientInformation;
  }
  saveClientInformation(clientInformation) {
    this.stored.clientInformation = clientInformation;
  }
  tokens() {
    return this.stored.tokens;
  }
  saveTokens(tokens) {
    this.stored.tokens = tokens;
  }
  redirectToAuthorization(authorizationUrl) {
    this.redirects.push(authorizationUrl);
  }
  saveCodeVerifier(codeVerifier) {
    this.stored.codeVerifier = codeVerifier;
  }
  codeVerifier() {
    check(this.stored.codeVerifier, 'no code verifier saved');
    return this.stored.codeVerifier;
  }
  saveDiscoveryState(state) {
    this.stored.discoveryState = state;
  }
}
