// provider.mjs MODDIR CONFIG.json: a real OAuth 2.0 server for postern's
// tests: oidc-provider (installed by tests/integration/lib/oauth.py into
// MODDIR, pinned by package-lock.json) over HTTPS on 127.0.0.1.
//
// CONFIG.json: {"port": N, "cert": PEM file, "key": PEM file,
//   "client_jwk_pem": PEM public key of the private_key_jwt client,
//   "secret": the client secret of every secret client,
//   "log": file: one JSON line per token request (grant) and error}
//
// Clients: "post" (client_secret_post), "basic" (client_secret_basic),
// "jwt" (private_key_jwt, RS256), "short" (client_secret_post, tokens
// live 2 s), "refresh" (client_secret_post, refresh_token grant,
// rotation), "smtp" (the resource server: introspection only).
// Introspection (RFC 7662) and revocation (RFC 7009) are on.  Test-only
// route: GET /test/refresh-token mints a refresh token for "refresh" (as
// if its user had consented once).
// Prints "listening on PORT" once ready.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [moddir, cfgfile] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(cfgfile, 'utf8'));
const entry = path.join(moddir, 'node_modules', 'oidc-provider', 'lib',
  'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const issuer = `https://127.0.0.1:${cfg.port}`;
const log = (o) => fs.appendFileSync(cfg.log, JSON.stringify(o) + '\n');

const sigkey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'jwk' });
const clientJwk = crypto.createPublicKey(
  fs.readFileSync(cfg.client_jwk_pem)).export({ format: 'jwk' });

const secretClient = (id, method, extra) => ({
  client_id: id,
  client_secret: cfg.secret,
  token_endpoint_auth_method: method,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'smtp',
  ...extra,
});

const provider = new Provider(issuer, {
  jwks: { keys: [sigkey] },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  clients: [
    secretClient('post', 'client_secret_post'),
    secretClient('basic', 'client_secret_basic'),
    secretClient('short', 'client_secret_post'),
    {
      client_id: 'jwt',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'smtp',
    },
    secretClient('refresh', 'client_secret_post', {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://127.0.0.1/cb'],
      scope: 'openid offline_access smtp',
    }),
    secretClient('smtp', 'client_secret_basic', { grant_types: [] }),
  ],
  scopes: ['openid', 'offline_access', 'smtp'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  rotateRefreshToken: true,
  ttl: {
    ClientCredentials: (ctx, token, client) =>
      client.clientId === 'short' ? 2 : 600,
    AccessToken: 600,
    RefreshToken: 86400,
    Grant: 86400,
  },
});

provider.on('grant.success', (ctx) => log({
  event: 'grant', client: ctx.oidc.client && ctx.oidc.client.clientId,
  grant_type: ctx.oidc.params.grant_type,
}));
provider.on('grant.error', (ctx, err) => log({
  event: 'grant.error', client: ctx.oidc.client && ctx.oidc.client.clientId,
  error: err.error,
}));

async function mintRefresh() {
  const client = await provider.Client.find('refresh');
  const grant = new provider.Grant({ accountId: 'cms', clientId: 'refresh' });
  grant.addOIDCScope('openid offline_access smtp');
  const grantId = await grant.save();
  const rt = new provider.RefreshToken({
    accountId: 'cms', client, grantId, gty: 'authorization_code',
    scope: 'openid offline_access smtp', authTime: Math.floor(Date.now() / 1000),
  });
  return rt.save();
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/refresh-token') {
    ctx.body = await mintRefresh();
  } else {
    await next();
  }
});

const server = https.createServer({
  cert: fs.readFileSync(cfg.cert),
  key: fs.readFileSync(cfg.key),
}, provider.callback());
server.listen(cfg.port, '127.0.0.1', () => {
  console.log(`listening on ${cfg.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
