// node-oidc-provider for registrar-bench: its memory adapter (not durable), open dynamic
// registration with RFC 7592 management, client_credentials and introspection, JWT access
// tokens signed with ACCESS_TOKEN_ALG (ES256 or RS256). Listens on 127.0.0.1:PORT.
// registrar-bench copies this file into the folder where `npm install oidc-provider@9` ran, so
// that the import resolves there.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const alg = process.env.ACCESS_TOKEN_ALG || 'ES256';
const resource = 'urn:registrar-bench:api';

const key = (type, options, props) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  use: 'sig',
  ...props,
});

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: {
    keys: [
      key('ec', { namedCurve: 'P-256' }, { alg: 'ES256', kid: 'es256' }),
      key('rsa', { modulusLength: 2048 }, { alg: 'RS256', kid: 'rs256' }),
    ],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
  routes: {
    registration: '/connect/dcr',
    token: '/connect/token',
    introspection: '/connect/introspect',
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    registrationManagement: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});

provider.listen(port, '127.0.0.1');
