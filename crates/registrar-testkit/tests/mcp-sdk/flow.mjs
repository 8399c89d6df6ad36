// The OAuth side of an MCP client, run with the official MCP TypeScript SDK against Registrar.
//
//   node flow.mjs ISSUER USERNAME PASSWORD [RESOURCE]
//
// The SDK discovers the authorization server (RFC 8414 first), registers a public client
// (RFC 7591, as MCP clients do), builds the authorization URL (PKCE S256, RFC 8707 resource),
// redeems the code and refreshes, and reads Registrar's error responses into its error classes:
// once function by function, then once more through auth(), the orchestrator MCP clients call,
// with an in-memory OAuthClientProvider and the MCP server's RFC 9728 metadata answered in its
// fetch (nothing leaves the machine). In place of a browser, node's fetch walks the login and
// consent forms with a small cookie jar and stops at the redirect to the client.
// Prints a JSON summary on stdout; on any failure, says which step failed on stderr and exits 1.

import { randomBytes } from 'node:crypto';
import {
  auth,
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';

const [issuer, username, password, resourceArgument] = process.argv.slice(2);
if (!issuer || !username || !password) {
  fail('usage', 'node flow.mjs ISSUER USERNAME PASSWORD [RESOURCE]');
}
// The resource indicator of the MCP server, derived from its URL as the SDK's auth() does.
const resource = resourceUrlFromServerUrl(resourceArgument ?? 'https://mcp.example.com/mcp');
// An MCP client listens on a loopback port for the redirect; this one reads the redirect's
// Location instead, so nothing needs to listen there.
const redirectUrl = `http://localhost:${33000 + (randomBytes(2).readUInt16BE() % 1000)}/callback`;
const scope = 'openid offline_access';

/** Runs one step, so a failure names it. */
async function step(name, action) {
  try {
    return await action();
  } catch (error) {
    fail(name, describe(error));
  }
}

function fail(name, message) {
  process.stderr.write(`flow.mjs: ${name}: ${message}\n`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** An SDK error as precisely as it can be told: the OAuth error code, or zod's issues. */
function describe(error) {
  if (error?.issues) {
    return `${error.name}: the SDK refused the response: ${JSON.stringify(error.issues)}`;
  }
  if (error?.errorCode) {
    return `${error.name} (${error.errorCode}): ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The claims of a JWT, unverified: the Rust side verifies what it needs to. */
function claims(jwt) {
  const parts = jwt.split('.');
  check(parts.length === 3, 'not a JWS compact serialisation');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// --- 1. Discovery, with a fetch that records what the SDK asked for.
const discoveryRequests = [];
const recordingFetch = async (url, init) => {
  try {
    const response = await fetch(url, init);
    discoveryRequests.push({ url: String(url), status: response.status });
    return response;
  } catch (error) {
    // The SDK takes a failed fetch for a CORS refusal and goes on, so the cause is kept here.
    discoveryRequests.push({ url: String(url), error: `${error.message} ${error.cause?.code ?? ''}`.trim() });
    throw error;
  }
};
const metadata = await step('discovery', async () => {
  const found = await discoverAuthorizationServerMetadata(issuer, { fetchFn: recordingFetch });
  check(found, `no authorization server metadata found (asked ${JSON.stringify(discoveryRequests)})`);
  const [first] = discoveryRequests;
  check(
    first.url === new URL('/.well-known/oauth-authorization-server', issuer).href && first.status === 200,
    `RFC 8414 metadata was not the first found: ${JSON.stringify(discoveryRequests)}`,
  );
  // RFC 8414 §3.3: the issuer in the metadata is the one it was looked up for.
  check(found.issuer === issuer, `metadata issuer '${found.issuer}' is not '${issuer}'`);
  check(found.registration_endpoint, 'no registration_endpoint');
  check(found.code_challenge_methods_supported?.includes('S256'), 'S256 is not supported');
  return found;
});

// The SDK falls back to OpenID Connect Discovery when RFC 8414 metadata is missing; with the
// RFC 8414 document hidden, it must accept Registrar's openid-configuration just as well.
const oidcDiscoveryRequests = [];
const oidcMetadata = await step('openid connect discovery', async () => {
  const withoutRfc8414 = async (url, init) => {
    if (new URL(url).pathname.startsWith('/.well-known/oauth-authorization-server')) {
      oidcDiscoveryRequests.push({ url: String(url), status: 404 });
      return new Response('{}', { status: 404 });
    }
    const response = await fetch(url, init);
    oidcDiscoveryRequests.push({ url: String(url), status: response.status });
    return response;
  };
  const found = await discoverAuthorizationServerMetadata(issuer, { fetchFn: withoutRfc8414 });
  check(found, `no OpenID provider metadata found (asked ${JSON.stringify(oidcDiscoveryRequests)})`);
  check(found.issuer === issuer, `OpenID provider issuer '${found.issuer}' is not '${issuer}'`);
  for (const member of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint']) {
    check(found[member] === metadata[member], `the two documents disagree on ${member}`);
  }
  return found;
});

// --- 2. Dynamic client registration, with the metadata MCP clients send.
const clientMetadata = {
  client_name: 'MCP TypeScript SDK flow',
  redirect_uris: [redirectUrl],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};
const clientInformation = await step('registration', async () => {
  const registered = await registerClient(issuer, { metadata, clientMetadata, scope });
  check(registered.client_id, 'no client_id');
  check(registered.client_secret === undefined, 'a public client got a client_secret');
  check(
    registered.token_endpoint_auth_method === 'none',
    `token_endpoint_auth_method is '${registered.token_endpoint_auth_method}'`,
  );
  check(
    JSON.stringify(registered.redirect_uris) === JSON.stringify([redirectUrl]),
    `redirect_uris are ${JSON.stringify(registered.redirect_uris)}`,
  );
  return registered;
});

// --- 3. The authorization URL, from the SDK.
const state = randomBytes(16).toString('base64url');
const { authorizationUrl, codeVerifier } = await step('start authorization', () =>
  startAuthorization(issuer, { metadata, clientInformation, redirectUrl, scope, state, resource }),
);

// --- 4. The user, in place of a browser.
/** A browser of its own: a cookie jar, and fetch that stops at each redirect. */
function newBrowser() {
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

/**
 * Signs in and allows, from the authorization URL to the redirect to the client, and checks the
 * redirect as the client's callback does: its issuer (RFC 9207) and its state.
 */
async function signInAndAllow(authorizationUrl, expectedState, pages) {
  const browser = newBrowser();
  const login = await browser.request(authorizationUrl);
  pages.push({ page: 'login', status: login.status });
  check(login.status === 200, `the authorization URL answered ${login.status}: ${login.body.slice(0, 300)}`);
  check(/name="password"/.test(login.body), 'the authorization URL did not show the login page');
  check(hidden(login, 'csrf_token'), 'the login form has no csrf_token');
  check(hidden(login, 'authorization_request'), 'the login form has no authorization_request');

  const consent = await browser.submit(login, { username, password });
  pages.push({ page: 'consent', status: consent.status });
  const loginError = consent.body.match(/role="alert"[^>]*>([^<]*)</)?.[1];
  check(!loginError, `the login page says: ${loginError && unescapeHtml(loginError)} (${consent.status})`);
  check(consent.status === 200, `the login answered ${consent.status}: ${consent.body.slice(0, 300)}`);
  check(/name="decision"/.test(consent.body), 'the login did not lead to the consent page');
  check(hidden(consent, 'csrf_token'), 'the consent form has no csrf_token');

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
  check(location.searchParams.get('iss') === metadata.issuer, `iss is '${location.searchParams.get('iss')}'`);
  check(location.searchParams.get('state') === expectedState, 'state does not match');
  const code = location.searchParams.get('code');
  check(code, 'no code');
  return { code, iss: location.searchParams.get('iss') };
}

const pages = [];
const callback = await step('login and consent', () =>
  signInAndAllow(authorizationUrl, state, pages),
);

// --- 5. The code for tokens, and a refresh, with the SDK.
const tokens = await step('code exchange', async () => {
  const issued = await exchangeAuthorization(issuer, {
    metadata,
    clientInformation,
    authorizationCode: callback.code,
    codeVerifier,
    redirectUri: redirectUrl,
    resource,
  });
  check(issued.token_type.toLowerCase() === 'bearer', `token_type is '${issued.token_type}'`);
  check(issued.access_token, 'no access_token');
  check(issued.refresh_token, 'no refresh_token');
  check(issued.id_token, 'no id_token');
  const idToken = claims(issued.id_token);
  check(idToken.iss === metadata.issuer, `the ID token's iss is '${idToken.iss}'`);
  check(
    idToken.aud === clientInformation.client_id || idToken.aud?.includes?.(clientInformation.client_id),
    `the ID token's aud is ${JSON.stringify(idToken.aud)}`,
  );
  return issued;
});

const refreshed = await step('refresh', async () => {
  const renewed = await refreshAuthorization(issuer, {
    metadata,
    clientInformation,
    refreshToken: tokens.refresh_token,
    resource,
  });
  check(renewed.access_token, 'no access_token');
  // The SDK keeps the old refresh token when the server sends none, so a rotated one differs.
  check(renewed.refresh_token !== tokens.refresh_token, 'the refresh token was not rotated');
  return renewed;
});

// The SDK's auth() drops its tokens and authorizes again when a refresh fails with
// InvalidGrantError, so Registrar's error response must read as one. A token the server never
// issued is used: presenting the spent one would revoke the grant the caller still checks.
const refusal = await step('refresh refused', async () => {
  try {
    await refreshAuthorization(issuer, {
      metadata,
      clientInformation,
      refreshToken: randomBytes(32).toString('base64url'),
      resource,
    });
  } catch (error) {
    check(error instanceof InvalidGrantError, `expected InvalidGrantError, got ${describe(error)}`);
    return { error: error.errorCode, error_description: error.message };
  }
  throw new Error('an unknown refresh token was accepted');
});

// --- 6. The same through auth(), as an MCP client runs it when its server answers 401.
// The MCP server's RFC 9728 metadata names Registrar; every other request goes to Registrar.
const mcpServerUrl = resource;
const protectedResource = { resource: resource.href, authorization_servers: [issuer] };
const orchestratorRequests = [];
const orchestratorFetch = async (url, init) => {
  const target = new URL(url);
  if (target.origin === mcpServerUrl.origin) {
    const found = target.pathname.startsWith('/.well-known/oauth-protected-resource');
    orchestratorRequests.push({ url: target.href, status: found ? 200 : 404 });
    return found
      ? Response.json(protectedResource)
      : new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } });
  }
  check(target.origin === new URL(issuer).origin, `auth() asked ${target.href}`);
  const response = await fetch(url, init);
  orchestratorRequests.push({ url: target.href, status: response.status });
  return response;
};

/** What an MCP client keeps between runs, in memory. */
class MemoryProvider {
  constructor() {
    this.stored = {};
    this.redirects = [];
    this.states = [];
  }
  get redirectUrl() {
    return redirectUrl;
  }
  get clientMetadata() {
    return { ...clientMetadata, client_name: 'MCP TypeScript SDK auth()', scope };
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
}

const orchestrated = await step('auth()', async () => {
  const provider = new MemoryProvider();
  const first = await auth(provider, { serverUrl: mcpServerUrl, fetchFn: orchestratorFetch });
  check(first === 'REDIRECT', `the first auth() returned ${first}`);
  check(provider.stored.clientInformation?.client_id, 'auth() registered no client');
  const [authorizationUrl] = provider.redirects;
  check(authorizationUrl, 'auth() sent the user nowhere');
  check(
    authorizationUrl.searchParams.get('resource') === protectedResource.resource,
    `auth() asked for resource '${authorizationUrl.searchParams.get('resource')}'`,
  );
  const orchestratedPages = [];
  const { code } = await signInAndAllow(authorizationUrl, provider.states.at(-1), orchestratedPages);

  const second = await auth(provider, {
    serverUrl: mcpServerUrl,
    authorizationCode: code,
    fetchFn: orchestratorFetch,
  });
  check(second === 'AUTHORIZED', `auth() with the code returned ${second}`);
  const issued = provider.stored.tokens;
  check(issued?.access_token && issued.refresh_token && issued.id_token, 'auth() saved no complete tokens');

  // With tokens saved, auth() refreshes instead of sending the user again.
  const third = await auth(provider, { serverUrl: mcpServerUrl, fetchFn: orchestratorFetch });
  check(third === 'AUTHORIZED', `auth() with a refresh token returned ${third}`);
  check(provider.redirects.length === 1, 'auth() sent the user again instead of refreshing');
  const renewed = provider.stored.tokens;
  check(renewed.access_token !== issued.access_token, 'auth() saved no new access token');
  check(renewed.refresh_token !== issued.refresh_token, 'the refresh token was not rotated');
  return {
    client: provider.stored.clientInformation,
    authorization: Object.fromEntries(
      [...authorizationUrl.searchParams].filter(([name]) => name !== 'code_challenge'),
    ),
    pages: orchestratedPages,
    requests: orchestratorRequests,
    tokens: issued,
    refreshed: renewed,
  };
});

const authorizationParameters = Object.fromEntries(
  [...authorizationUrl.searchParams].filter(([name]) => name !== 'code_challenge'),
);
process.stdout.write(
  `${JSON.stringify(
    {
      issuer: metadata.issuer,
      discovery: discoveryRequests,
      oidc_discovery: { issuer: oidcMetadata.issuer, requests: oidcDiscoveryRequests },
      client: clientInformation,
      authorization: authorizationParameters,
      pages,
      callback: { iss: callback.iss },
      tokens,
      access_token_claims: claims(tokens.access_token),
      id_token_claims: claims(tokens.id_token),
      refreshed,
      refreshed_access_token_claims: claims(refreshed.access_token),
      refusal,
      orchestrated,
    },
    null,
    2,
  )}\n`,
);
