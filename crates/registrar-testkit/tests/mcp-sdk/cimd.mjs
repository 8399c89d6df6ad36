// An MCP client that identifies itself by a Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document, the SDK's "URL-based client IDs", SEP-991), run
// with the official MCP TypeScript SDK's auth() against Registrar.
//
//   node cimd.mjs ISSUER USERNAME PASSWORD CLIENT_ID_URL REDIRECT_URL [RESOURCE [EXPECT]]
//
// The provider's clientMetadataUrl is CLIENT_ID_URL, where the Rust test serves the client's
// document; the SDK does not fetch it, Registrar does. With EXPECT `document` (the default),
// auth() must read Registrar's client_id_metadata_document_supported and use the URL as its
// client_id instead of registering; with `registration`, Registrar must not advertise it and
// auth() must fall back to registering once. Either way the user signs in and allows on
// Registrar's pages (played here as flow.mjs does), then auth() redeems the code with PKCE and,
// called once more, refreshes.
// Prints a JSON summary on stdout, with every request auth() made; on any failure, says which
// step failed on stderr and exits 1.

import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import { MemoryProvider, check, claims, fail, mcpServerFetch, signInAndAllow, step } from './shared.mjs';

const [issuer, username, password, clientMetadataUrl, redirectUrl, resourceArgument, expect = 'document'] =
  process.argv.slice(2);
const given = issuer && username && password && clientMetadataUrl && redirectUrl;
if (!given || !['document', 'registration'].includes(expect)) {
  fail(
    'usage',
    'node cimd.mjs ISSUER USERNAME PASSWORD CLIENT_ID_URL REDIRECT_URL [RESOURCE [document|registration]]',
  );
}
const resource = resourceUrlFromServerUrl(resourceArgument ?? 'https://mcp.example.com/mcp');
const scope = 'openid offline_access';
const user = { username, password };

const requests = [];
const { fetchFn, protectedResource } = mcpServerFetch({ issuer, resource, requests });
const provider = new MemoryProvider({
  redirectUrl,
  // What the SDK would register were the URL not accepted: it must not be sent.
  clientMetadata: {
    client_name: 'MCP TypeScript SDK (not registered)',
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope,
  },
  clientMetadataUrl,
});

// --- 1. auth() discovers Registrar from the MCP server and takes the URL as its client id, or,
// where Registrar does not advertise metadata documents, registers.
const authorizationUrl = await step('auth()', async () => {
  const result = await auth(provider, { serverUrl: resource, fetchFn });
  check(result === 'REDIRECT', `the first auth() returned ${result}`);
  const discovered = provider.stored.discoveryState?.authorizationServerMetadata;
  check(discovered, 'auth() saved no authorization server metadata');
  const registrations = requests.filter(request => request.url === discovered.registration_endpoint);
  const clientId = provider.stored.clientInformation?.client_id;
  if (expect === 'document') {
    check(
      discovered.client_id_metadata_document_supported === true,
      `client_id_metadata_document_supported is ${discovered.client_id_metadata_document_supported}`,
    );
    check(registrations.length === 0, `auth() registered: ${JSON.stringify(registrations)}`);
    check(clientId === clientMetadataUrl, `auth() saved the client id '${clientId}'`);
  } else {
    check(
      discovered.client_id_metadata_document_supported === undefined,
      `client_id_metadata_document_supported is ${discovered.client_id_metadata_document_supported}`,
    );
    check(registrations.length === 1, `auth() registered ${registrations.length} times`);
    check(clientId && clientId !== clientMetadataUrl, `auth() saved the client id '${clientId}'`);
  }
  check(provider.redirects.length === 1, `auth() sent the user ${provider.redirects.length} times`);
  const [url] = provider.redirects;
  const sentClientId = url.searchParams.get('client_id');
  check(sentClientId === clientId, `the authorization URL's client_id is '${sentClientId}'`);
  check(url.searchParams.get('code_challenge_method') === 'S256', 'no S256 code challenge');
  return url;
});
const clientId = provider.stored.clientInformation.client_id;

// --- 2. The user, in place of a browser.
const pages = [];
const callback = await step('login and consent', () =>
  signInAndAllow({
    issuer,
    user,
    redirectUrl,
    authorizationUrl,
    expectedState: provider.states.at(-1),
    pages,
  }),
);

// --- 3. The code for tokens, then a refresh, both through auth().
const tokens = await step('code exchange', async () => {
  const result = await auth(provider, {
    serverUrl: resource,
    authorizationCode: callback.code,
    fetchFn,
  });
  check(result === 'AUTHORIZED', `auth() with the code returned ${result}`);
  const issued = provider.stored.tokens;
  check(issued?.access_token && issued.refresh_token && issued.id_token, 'auth() saved no complete tokens');
  const idToken = claims(issued.id_token);
  check(
    idToken.aud === clientId || idToken.aud?.includes?.(clientId),
    `the ID token's aud is ${JSON.stringify(idToken.aud)}`,
  );
  return issued;
});

const refreshed = await step('refresh', async () => {
  const result = await auth(provider, { serverUrl: resource, fetchFn });
  check(result === 'AUTHORIZED', `auth() with a refresh token returned ${result}`);
  check(provider.redirects.length === 1, 'auth() sent the user again instead of refreshing');
  const renewed = provider.stored.tokens;
  check(renewed.access_token !== tokens.access_token, 'auth() saved no new access token');
  check(renewed.refresh_token !== tokens.refresh_token, 'the refresh token was not rotated');
  return renewed;
});

const metadata = provider.stored.discoveryState.authorizationServerMetadata;
process.stdout.write(
  `${JSON.stringify(
    {
      issuer: metadata.issuer,
      client_id_metadata_document_supported: metadata.client_id_metadata_document_supported ?? null,
      registration_endpoint: metadata.registration_endpoint ?? null,
      resource: protectedResource.resource,
      client: provider.stored.clientInformation,
      authorization: Object.fromEntries(
        [...authorizationUrl.searchParams].filter(([name]) => name !== 'code_challenge'),
      ),
      pages,
      consent: callback.consent,
      callback: { iss: callback.iss },
      requests,
      tokens,
      access_token_claims: claims(tokens.access_token),
      id_token_claims: claims(tokens.id_token),
      refreshed,
      refreshed_access_token_claims: claims(refreshed.access_token),
    },
    null,
    2,
  )}\n`,
);
