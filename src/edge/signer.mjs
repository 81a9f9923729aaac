// urlguard edge signer: Lambda@Edge origin-request trigger that SigV4-signs
// what CloudFront forwards to a Lambda function URL (AuthType AWS_IAM), per
// docs/design.md "The edge signer". Zero dependencies on purpose: cold
// starts pay for package size and import work, and node:crypto does here
// what the SDK signer loads dozens of modules for.
import { createHash, createHmac, hash } from 'node:crypto'; // hash(): Node >= 20.12

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const UNRESERVED = /^[A-Za-z0-9._~-]*$/;
const SAFE_PATH = /^[A-Za-z0-9._~\/-]*$/;
const STRAY_PERCENT = /%(?![\dA-Fa-f]{2})/;
const FUNCTION_URL_HOST = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/;

const sha256Hex = (data) => hash('sha256', data, 'hex'); // one-shot: 2x faster
const hmac = (key, data, enc) => createHmac('sha256', key).update(data).digest(enc);

// RFC 3986 encoding of a string's UTF-8 bytes: only A-Za-z0-9-_.~ stay.
function encode(s) {
  if (UNRESERVED.test(s)) return s;
  return encodeURIComponent(s.toWellFormed()).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// Decodes a query key or value once. '+' is a space: called directly with
// `q=a+b`, a function URL gives the function "a b" (aws-lambda-web-adapter
// #491; API Gateway too, aws-cdk#19827), so we forward %20; a literal plus
// comes as %2B and stays one. A '%' without two hex digits is literal.
// Invalid UTF-8 becomes U+FFFD, as the function reads it, so every SigV4
// implementation canonicalizes the forwarded query alike.
function decode(s) {
  s = s.replaceAll('+', ' ');
  if (!s.includes('%')) return s;
  try {
    if (!STRAY_PERCENT.test(s)) return decodeURIComponent(s);
  } catch {} // invalid UTF-8
  // Byte by byte: one latin1 char per UTF-8 byte, each valid %XX decoded.
  const bytes = Buffer.from(s, 'utf8').toString('latin1').replace(/%([\dA-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const normalize = (s) => (UNRESERVED.test(s) ? s : encode(decode(s)));

// Raw query string -> [[key, value]] in the viewer's order, each RFC 3986
// encoded once. Empty pairs are dropped; a key without '=' gets value ''.
export function normalizeQuery(raw) {
  const pairs = [];
  for (const part of raw ? raw.split('&') : []) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [normalize(part), ''] : [normalize(part.slice(0, eq)), normalize(part.slice(eq + 1))]);
  }
  return pairs;
}

const byName = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const byKeyThenValue = (a, b) => byName(a, b) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

// Encoded pairs -> canonical query: sorted by key, then value (code points).
export const canonicalQuery = (pairs) => joinQuery(pairs.length > 1 ? pairs.toSorted(byKeyThenValue) : pairs);
const joinQuery = (pairs) => pairs.map((p) => p[0] + '=' + p[1]).join('&');

// Non-S3 rules: optionally drop empty and dot segments, then encode all but
// '/' and unreserved bytes again (the wire path /a%20b signs as /a%2520b).
export function canonicalPath(path, normalizePath = true) {
  if (normalizePath && (path.includes('//') || path.includes('/.'))) {
    const out = [];
    for (const seg of path.split('/')) {
      if (seg === '..') out.pop();
      else if (seg !== '' && seg !== '.') out.push(seg);
    }
    path = '/' + out.join('/') + (out.length && path.endsWith('/') ? '/' : '');
  }
  return path === '' ? '/' : SAFE_PATH.test(path) ? path : encode(path).replaceAll('%2F', '/');
}

// 8x faster than a regex on a 1 KB session token.
const hasSpace = (v) => v.includes(' ') || v.includes('\t') || v.includes('\n') || v.includes('\r');

// [[name, value]] -> lowercase names, values trimmed with inner whitespace
// runs collapsed, duplicates joined with ',' in order, sorted by name.
export function canonicalHeaders(headers) {
  const list = headers
    .map(([name, value]) => [name.toLowerCase(), hasSpace(value) ? value.replace(/[\t\n\r ]+/g, ' ').replace(/^ | $/g, '') : value])
    .sort(byName); // stable: duplicates keep their order
  let text = '';
  let signedHeaders = '';
  for (let i = 0; i < list.length; i++) {
    const [n, v] = list[i];
    if (i > 0 && list[i - 1][0] === n) {
      text = text.slice(0, -1) + ',' + v + '\n';
    } else {
      text += n + ':' + v + '\n';
      signedHeaders += (i > 0 ? ';' : '') + n;
    }
  }
  return { text, signedHeaders };
}

// query: encoded pairs; headers: [[name, value]] -> { text, signedHeaders }.
export function canonicalRequest({ method, path, query, headers, payloadHash, normalizePath = true }) {
  const h = canonicalHeaders(headers);
  const text = `${method}\n${canonicalPath(path, normalizePath)}\n${canonicalQuery(query)}\n${h.text}\n${h.signedHeaders}\n${payloadHash}`;
  return { text, signedHeaders: h.signedHeaders };
}

export const stringToSign = (amzDate, scope, creq) => `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(creq)}`;

// A derived key serves a day, region and service; caching it saves four
// HMACs a request. At most 8 kept (oldest out first); no credentials.
const keyCache = new Map();
export function signingKey(secretAccessKey, date, region, service) {
  const id = `${date}/${region}/${service}/${secretAccessKey}`;
  let key = keyCache.get(id);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac('AWS4' + secretAccessKey, date), region), service), 'aws4_request');
    if (keyCache.size >= 8) keyCache.delete(keyCache.keys().next().value);
    keyCache.set(id, key);
  }
  return key;
}

const d2 = (n) => (n < 10 ? '0' : '') + n;
const amzDateOf = (t) => // 20150830T123600Z; 4x faster than toISOString()
  `${t.getUTCFullYear()}${d2(t.getUTCMonth() + 1)}${d2(t.getUTCDate())}T${d2(t.getUTCHours())}${d2(t.getUTCMinutes())}${d2(t.getUTCSeconds())}Z`;

// Adds x-amz-date (and x-amz-security-token with a session token) to
// `headers`, signs, returns Authorization and intermediate results.
export function sign({ method, path, query, headers, payloadHash, normalizePath, credentials, region, service, now }) {
  const amzDate = amzDateOf(now);
  const date = amzDate.slice(0, 8);
  const all = [...headers, ['x-amz-date', amzDate]];
  if (credentials.sessionToken) all.push(['x-amz-security-token', credentials.sessionToken]);
  const creq = canonicalRequest({ method, path, query, headers: all, payloadHash, normalizePath });
  const scope = `${date}/${region}/${service}/aws4_request`;
  const sts = stringToSign(amzDate, scope, creq.text);
  const signature = hmac(signingKey(credentials.secretAccessKey, date, region, service), sts, 'hex');
  const authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${creq.signedHeaders}, Signature=${signature}`;
  return { authorization, signature, amzDate, canonicalRequest: creq.text, stringToSign: sts };
}

// SHA-256 of the forwarded body bytes (base64 decoded).
function payloadSha256(body) {
  if (!body?.data) return EMPTY_SHA256;
  return body.encoding === 'base64' ? createHash('sha256').update(body.data, 'base64').digest('hex') : sha256Hex(body.data);
}

// Lambda@Edge sees at most 1 MB of body: never sign a part of one.
const cf = (key, value) => [{ key, value }];
const tooLarge = () => ({
  status: '413',
  statusDescription: 'Payload Too Large',
  headers: { 'content-type': cf('Content-Type', 'text/plain; charset=utf-8') },
  body: 'Request body too large to sign (limit 1 MB).\n',
});

// CloudFront origin-request `request` -> the signed request to forward, or a
// generated 413. The input is not modified.
export function signOriginRequest(request, { credentials, now }) {
  const origin = request.origin?.custom;
  const domain = origin?.domainName;
  const region = FUNCTION_URL_HOST.exec(domain ?? '')?.[1];
  if (!region) throw new Error(`origin ${JSON.stringify(domain)} is not a Lambda function URL host (<id>.lambda-url.<region>.on.aws)`);
  if (request.body?.inputTruncated) return tooLarge();

  const headers = {};
  for (const name in request.headers) {
    // Viewer Authorization and x-amz-* would clash with (or forge) ours; Host
    // names the origin; X-Forwarded-Authorization is only ever set below.
    if (name !== 'authorization' && name !== 'x-forwarded-authorization' && name !== 'host' && !name.startsWith('x-amz-')) {
      headers[name] = request.headers[name];
    }
  }
  const viewerAuth = request.headers?.authorization;
  if (viewerAuth) headers['x-forwarded-authorization'] = viewerAuth.map((h) => ({ key: 'X-Forwarded-Authorization', value: h.value }));

  const query = normalizeQuery(request.querystring);
  const payloadHash = payloadSha256(request.body);
  const signed = sign({
    method: request.method, path: (origin.path ?? '') + request.uri, query, payloadHash, credentials, region, service: 'lambda', now,
    headers: [['host', domain], ['x-amz-content-sha256', payloadHash]],
  });

  headers.host = cf('Host', domain);
  headers['x-amz-date'] = cf('X-Amz-Date', signed.amzDate);
  headers['x-amz-content-sha256'] = cf('X-Amz-Content-Sha256', payloadHash);
  if (credentials.sessionToken) headers['x-amz-security-token'] = cf('X-Amz-Security-Token', credentials.sessionToken);
  headers.authorization = cf('Authorization', signed.authorization);
  return { ...request, querystring: joinQuery(query), headers };
}

// Lambda@Edge entry point. Credentials are read from the environment on
// every call: Lambda rotates them in place.
export async function handler(event) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials in the environment');
  return signOriginRequest(event.Records[0].cf.request, { credentials: { accessKeyId, secretAccessKey, sessionToken }, now: new Date() });
}
