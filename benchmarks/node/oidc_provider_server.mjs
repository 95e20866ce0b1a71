// panva oidc-provider serving client-credentials tokens over HTTPS, for bench_oidc_provider.py.
// Usage: node oidc_provider_server.mjs CERT_PEM KEY_PEM CLIENT_ID CLIENT_SECRET
// Access tokens are RS256 JWTs (resource indicators), as Entra's are. Listens on a free loopback
// port the system picks (no port chosen beforehand that another process could take meanwhile)
// and prints "ready PORT" when up.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const [certPath, keyPath, clientId, clientSecret] = process.argv.slice(2);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };
const resource = 'https://graph.example/';

const server = https.createServer(
  { cert: readFileSync(certPath), key: readFileSync(keyPath), keepAliveTimeout: 60000 },
);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

const provider = new Provider(`https://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

server.on('request', provider.callback());
console.log(`ready ${port}`);
