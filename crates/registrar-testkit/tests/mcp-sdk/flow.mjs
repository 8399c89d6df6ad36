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
import {
  MemoryProvider,
  check,
  claims,
  describe,
  fail,
  mcpServerFetch,
  signInAndAllow,
  step,
} from './shared.mjs';

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
const user = { username, password };
const pages = [];
const callback = await step('login and consent', () =>
  signInAndAllow({
    issuer: metadata.issuer,
    user,
    redirectUrl,
    authorizationUrl,
    expectedState: state,
    pages,
  }),
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
const orchestratorRequests = [];
const { fetchFn: orchestratorFetch, protectedResource } = mcpServerFetch({
  issuer,
  resource,
  requests: orchestratorRequests,
});

const orchestrated = await step('auth()', async () => {
  const provider = new MemoryProvider({
    redirectUrl,
    clientMetadata: { ...clientMetadata, client_name: 'MCP TypeScript SDK auth()', scope },
  });
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
  const { code } = await signInAndAllow({
    issuer: metadata.issuer,
    user,
    redirectUrl,
    authorizationUrl,
    expectedState: provider.states.at(-1),
    pages: orchestratedPages,
  });

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
      consent: callback.consent,
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
