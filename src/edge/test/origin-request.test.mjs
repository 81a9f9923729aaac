// signOriginRequest and handler on CloudFront origin-request events. The
// cases live in cases.json (shared with the Rust aws-sigv4 comparison); every
// signature is checked against an independent computation built here from
// the literal expectations (canonical path and query) in cases.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { handler, normalizeQuery, signOriginRequest } from '../signer.mjs';
import { loadCases } from './sign-cases.mjs';

const { cases } = loadCases();
const byName = Object.fromEntries(cases.map((c) => [c.name, c]));
const AMZ_DATE = '20250314T150926Z'; // cases.json "now"
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (k, d) => createHmac('sha256', k).update(d).digest();

// Signature from a literal canonical request, with no code from the signer.
function authorizationFor(creq, { accessKeyId, secretAccessKey }, signedHeaders, amzDate = AMZ_DATE) {
  const date = amzDate.slice(0, 8);
  const scope = `${date}/eu-west-1/lambda/aws4_request`;
  const key = hmac(hmac(hmac(hmac('AWS4' + secretAccessKey, date), 'eu-west-1'), 'lambda'), 'aws4_request');
  const signature = createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(creq)}`).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

function expectedCanonicalRequest({ request, credentials, expect }) {
  const lines = [`host:${request.origin.custom.domainName}`, `x-amz-content-sha256:${expect.payloadSha256}`, `x-amz-date:${AMZ_DATE}`];
  if (credentials.sessionToken) lines.push(`x-amz-security-token:${credentials.sessionToken}`);
  const signedHeaders = lines.map((l) => l.slice(0, l.indexOf(':'))).join(';');
  const creq = [request.method, expect.canonicalPath, expect.canonicalQuery, ...lines, '', signedHeaders, expect.payloadSha256].join('\n');
  return { creq, signedHeaders };
}

const value = (headers, name) => headers[name]?.map((h) => h.value);

test('cases.json covers every outcome', () => {
  const outcomes = new Set(cases.map((c) => c.expect.outcome));
  assert.deepEqual([...outcomes].sort(), ['error', 'response', 'signed']);
  assert.ok(cases.length >= 30);
});

for (const c of cases) {
  test(`origin request: ${c.name}`, () => {
    const before = structuredClone(c.request);
    const run = () => signOriginRequest(c.request, { credentials: c.credentials, now: c.now });
    if (c.expect.outcome === 'error') {
      assert.throws(run, new RegExp(c.expect.error));
      return;
    }
    const out = run();
    assert.deepEqual(c.request, before, 'the input request is not modified');
    if (c.expect.outcome === 'response') {
      assert.equal(out.status, c.expect.status);
      assert.equal(out.statusDescription, 'Payload Too Large');
      assert.match(value(out.headers, 'content-type')[0], /^text\/plain/);
      assert.equal(typeof out.body, 'string');
      assert.equal(out.headers.authorization, undefined);
      return;
    }
    const domain = c.request.origin.custom.domainName;
    // Forwarded unchanged: method, uri, body, origin and the other viewer headers.
    assert.equal(out.method, c.request.method);
    assert.equal(out.uri, c.request.uri);
    assert.equal(out.body, c.request.body);
    assert.equal(out.origin, c.request.origin);
    assert.equal(out.clientIp, c.request.clientIp);
    for (const name of ['user-agent', 'accept', 'content-type', 'origin', 'access-control-request-method']) {
      assert.deepEqual(out.headers[name], c.request.headers[name], name);
    }
    // Forwarded query: normalized, in the viewer's order.
    assert.equal(out.querystring, c.expect.querystring);
    // The payload hash covers the decoded body.
    const body = c.request.body;
    const bytes = body?.data ? Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8') : Buffer.alloc(0);
    assert.equal(sha256(bytes), c.expect.payloadSha256);
    // Exactly our x-amz-* headers, in CloudFront's {key, value} form.
    assert.deepEqual(out.headers.host, [{ key: 'Host', value: domain }]);
    assert.deepEqual(out.headers['x-amz-date'], [{ key: 'X-Amz-Date', value: AMZ_DATE }]);
    assert.deepEqual(out.headers['x-amz-content-sha256'], [{ key: 'X-Amz-Content-Sha256', value: c.expect.payloadSha256 }]);
    assert.deepEqual(value(out.headers, 'x-amz-security-token'), c.credentials.sessionToken ? [c.credentials.sessionToken] : undefined);
    const amz = Object.keys(out.headers).filter((n) => n.startsWith('x-amz-')).sort();
    assert.deepEqual(amz, c.credentials.sessionToken
      ? ['x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']
      : ['x-amz-content-sha256', 'x-amz-date']);
    for (const [name, list] of Object.entries(out.headers)) {
      assert.ok(Array.isArray(list) && list.every((h) => typeof h.key === 'string' && h.key.toLowerCase() === name), name);
    }
    // The signature, recomputed independently.
    const { creq, signedHeaders } = expectedCanonicalRequest(c);
    assert.deepEqual(value(out.headers, 'authorization'), [authorizationFor(creq, c.credentials, signedHeaders)]);
  });
}

test('a literal canonical request: POST with spoofed viewer headers and long-term keys', () => {
  const c = byName['spoofed-viewer-headers'];
  const out = signOriginRequest(c.request, { credentials: c.credentials, now: c.now });
  const creq = [
    'POST',
    '/api/items',
    'x=1',
    'host:abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
    'x-amz-content-sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    'x-amz-date:20250314T150926Z',
    '',
    'host;x-amz-content-sha256;x-amz-date',
    '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
  ].join('\n');
  assert.equal(out.headers.authorization[0].value, authorizationFor(creq, c.credentials, 'host;x-amz-content-sha256;x-amz-date'));
  assert.deepEqual(out.headers['x-forwarded-authorization'], [{ key: 'X-Forwarded-Authorization', value: 'Bearer app-token-123' }]);
  for (const gone of ['x-amz-security-token', 'x-amz-user-agent']) assert.equal(out.headers[gone], undefined, gone);
  assert.notEqual(out.headers['x-amz-date'][0].value, '20000101T000000Z');
});

test('a literal canonical request: reserved characters in the query, session token, origin path', () => {
  const c = byName['query-reserved-characters'];
  const request = { ...c.request, origin: { custom: { ...c.request.origin.custom, path: '/stage' } } };
  const out = signOriginRequest(request, { credentials: c.credentials, now: c.now });
  const creq = [
    'GET',
    '/stage/search',
    'e=%21%28y%29&filter%5Bname%5D=a%2Ab&semi=a%3Bb%2Cc%3Ad%40e%24f%2Fg%3Fh&sort=%27x%27&sp=a%20b',
    'host:abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
    'x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-amz-date:20250314T150926Z',
    'x-amz-security-token:IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+session/token==',
    '',
    'host;x-amz-content-sha256;x-amz-date;x-amz-security-token',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ].join('\n');
  assert.equal(out.headers.authorization[0].value, authorizationFor(creq, c.credentials, 'host;x-amz-content-sha256;x-amz-date;x-amz-security-token'));
  assert.equal(out.uri, '/search', 'the origin path is not added to the forwarded uri (CloudFront adds it)');
});

test('the query is never signed as part of the path', () => {
  const c = byName['query-repeated-keys'];
  const out = signOriginRequest(c.request, { credentials: c.credentials, now: c.now });
  const wrong = [c.request.method, '/search%3Fb%3D2%26a%3D1%26b%3D1%26a%3D2', '', ...expectedCanonicalRequest(c).creq.split('\n').slice(3)].join('\n');
  assert.notEqual(out.headers.authorization[0].value, authorizationFor(wrong, c.credentials, 'host;x-amz-content-sha256;x-amz-date;x-amz-security-token'));
});

test('session token present vs absent changes the signed header set', () => {
  const c = byName['get-root-no-body'];
  const withToken = signOriginRequest(c.request, { credentials: c.credentials, now: c.now });
  const { sessionToken, ...keysOnly } = c.credentials;
  const without = signOriginRequest(c.request, { credentials: keysOnly, now: c.now });
  assert.match(withToken.headers.authorization[0].value, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  assert.match(without.headers.authorization[0].value, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
  assert.equal(withToken.headers['x-amz-security-token'][0].value, sessionToken);
  assert.equal(without.headers['x-amz-security-token'], undefined);
});

test('handler reads the credentials from the environment on every call', async (t) => {
  const saved = { ...process.env };
  t.after(() => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  const c = byName['post-text-json'];
  const event = { Records: [{ cf: { config: { eventType: 'origin-request' }, request: c.request } }] };
  const call = async (id, secret, token) => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token });
    const out = await handler(event);
    const amzDate = out.headers['x-amz-date'][0].value;
    const { creq, signedHeaders } = expectedCanonicalRequest({ ...c, credentials: { sessionToken: token } });
    const expected = authorizationFor(creq.replace(AMZ_DATE, amzDate), { accessKeyId: id, secretAccessKey: secret }, signedHeaders, amzDate);
    assert.equal(out.headers.authorization[0].value, expected);
    assert.equal(out.headers['x-amz-security-token'][0].value, token);
    return out;
  };
  const first = await call('ASIAFIRST0000000001', 'first/secret/key', 'token-one');
  const second = await call('ASIASECOND000000002', 'second/secret/key', 'token-two');
  assert.notEqual(first.headers.authorization[0].value, second.headers.authorization[0].value);
  assert.match(second.headers.authorization[0].value, /Credential=ASIASECOND000000002\//);

  delete process.env.AWS_SECRET_ACCESS_KEY;
  await assert.rejects(handler(event), /no AWS credentials/);
});

test('handler answers 413 for a truncated body', async (t) => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  t.after(() => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  const c = byName['post-truncated-body'];
  const out = await handler({ Records: [{ cf: { request: c.request } }] });
  assert.equal(out.status, '413');
});

test('normalizeQuery decodes exactly once and never throws', () => {
  const forward = (raw) => normalizeQuery(raw).map(([k, v]) => `${k}=${v}`).join('&');
  assert.equal(forward('a=%2541&b=%252B'), 'a=%2541&b=%252B', 'an encoded % stays one: no second decoding');
  assert.equal(forward('u=%u0041&p=%%'), 'u=%25u0041&p=%25%25', 'no %uXXXX decoding');
  assert.equal(forward('m=%C3%BC%E2%82&n=%FF'), 'm=%C3%BC%EF%BF%BD&n=%EF%BF%BD', 'invalid UTF-8 becomes U+FFFD');
  assert.equal(forward('s=\ud800x'), 's=%EF%BF%BDx', 'a lone surrogate becomes U+FFFD');
  assert.equal(forward('=v&=&k'), '=v&=&k=', 'an empty key is kept, a bare key gets =');
  assert.equal(forward(undefined), '');
});

test('signer.mjs stays within its 10 KB budget', () => {
  const size = statSync(new URL('../signer.mjs', import.meta.url)).size;
  assert.ok(size <= 10_000, `signer.mjs is ${size} bytes (10 KB read strictly as 10,000 bytes)`);
});
