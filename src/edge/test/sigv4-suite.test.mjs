// The generic SigV4 core against the AWS SigV4 test suite, read in place from
// ../shared/sigv4-test-suite/v4 relative to the repository root. Every case
// directory is run; a missing suite fails (it is never skipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalHeaders, canonicalPath, canonicalQuery, normalizeQuery, sign, signingKey, stringToSign } from '../signer.mjs';

const repoRoot = new URL('../../../', import.meta.url); // src/edge/test/ -> repository root
const suite = fileURLToPath(new URL('../shared/sigv4-test-suite/v4/', repoRoot));
const read = (dir, file) => readFileSync(`${suite}${dir}/${file}`, 'utf8');

// request.txt: request line, headers (indented lines continue the previous
// value), blank line, body. The path may contain spaces.
function parseRequest(text) {
  const lines = text.split('\n');
  const requestLine = lines[0];
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' HTTP/'));
  const q = target.indexOf('?');
  const headers = [];
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    if (/^[ \t]/.test(lines[i])) headers.at(-1)[1] += '\n' + lines[i];
    else headers.push([lines[i].slice(0, lines[i].indexOf(':')), lines[i].slice(lines[i].indexOf(':') + 1)]);
  }
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers,
    body: lines.slice(i + 1).join('\n'),
  };
}

const cases = existsSync(suite) ? readdirSync(suite).filter((d) => existsSync(`${suite}${d}/context.json`)).sort() : [];

test('the AWS SigV4 test suite is present in place', () => {
  assert.ok(existsSync(suite), `missing ${suite}`);
  assert.equal(cases.length, 38, `expected the 38 v4 cases, found ${cases.length}`);
});

for (const name of cases) {
  test(`sigv4 suite: ${name}`, () => {
    const ctx = JSON.parse(read(name, 'context.json'));
    const req = parseRequest(read(name, 'request.txt'));
    const payloadHash = createHash('sha256').update(req.body).digest('hex');
    const headers = ctx.sign_body ? [...req.headers, ['x-amz-content-sha256', payloadHash]] : req.headers;
    // omit_session_token: the token is added after signing, so it is not signed.
    const token = ctx.omit_session_token ? undefined : ctx.credentials.token;
    const out = sign({
      method: req.method,
      path: req.path,
      query: normalizeQuery(req.query),
      headers,
      payloadHash,
      normalizePath: ctx.normalize,
      credentials: { accessKeyId: ctx.credentials.access_key_id, secretAccessKey: ctx.credentials.secret_access_key, sessionToken: token },
      region: ctx.region,
      service: ctx.service,
      now: new Date(ctx.timestamp),
    });
    assert.equal(out.canonicalRequest, read(name, 'header-canonical-request.txt'), 'canonical request');
    assert.equal(out.stringToSign, read(name, 'header-string-to-sign.txt'), 'string to sign');
    assert.equal(out.signature, read(name, 'header-signature.txt'), 'signature');
    const signedRequest = read(name, 'header-signed-request.txt');
    assert.ok(signedRequest.includes(`\nAuthorization:${out.authorization}\n`), 'Authorization header of header-signed-request.txt');
  });
}

// AWS documentation example of a derived signing key (secret of the suite,
// 20120215, us-east-1, iam), and an independent derivation with node:crypto.
test('signingKey derives the documented key and caches per (secret, date, region, service)', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  assert.equal(signingKey(secret, '20120215', 'us-east-1', 'iam').toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  const h = (k, d) => createHmac('sha256', k).update(d).digest();
  const expected = h(h(h(h('AWS4other', '20250314'), 'eu-west-1'), 'lambda'), 'aws4_request');
  assert.deepEqual(signingKey('other', '20250314', 'eu-west-1', 'lambda'), expected);
  assert.equal(signingKey(secret, '20120215', 'us-east-1', 'iam'), signingKey(secret, '20120215', 'us-east-1', 'iam'), 'cached: same Buffer');
  assert.notDeepEqual(signingKey(secret, '20120216', 'us-east-1', 'iam'), signingKey(secret, '20120215', 'us-east-1', 'iam'));
  assert.notDeepEqual(signingKey(secret + 'x', '20120215', 'us-east-1', 'iam'), signingKey(secret, '20120215', 'us-east-1', 'iam'));
  // More distinct keys than the cache holds still derive correctly.
  for (let d = 10; d < 30; d++) {
    assert.deepEqual(signingKey('rot', `202503${d}`, 'eu-west-1', 'lambda'), h(h(h(h('AWS4rot', `202503${d}`), 'eu-west-1'), 'lambda'), 'aws4_request'));
  }
});

test('stringToSign hashes the canonical request', () => {
  const creq = 'GET\n/\n\nhost:example.amazonaws.com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const hash = createHash('sha256').update(creq).digest('hex');
  assert.equal(stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', creq),
    `AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n${hash}`);
});

test('canonicalHeaders: lowercase, trim, collapse runs, join duplicates in order, sort', () => {
  assert.deepEqual(canonicalHeaders([['X-B', '  two   words \t here '], ['a', 'x'], ['x-b', 'second'], ['A', ' y']]), {
    text: 'a:x,y\nx-b:two words here,second\n',
    signedHeaders: 'a;x-b',
  });
});

test('canonicalPath: double-encoding for non-S3 services, optional normalization', () => {
  assert.equal(canonicalPath('/a%20b/c d/%E2%9C%93'), '/a%2520b/c%20d/%25E2%259C%2593');
  assert.equal(canonicalPath('/x/./y/../z//'), '/x/z/');
  assert.equal(canonicalPath('/x/./y/../z//', false), '/x/./y/../z//');
  assert.equal(canonicalPath('/..'), '/');
  assert.equal(canonicalPath(''), '/');
  assert.equal(canonicalPath("/a!b'c(d)e*f"), '/a%21b%27c%28d%29e%2Af');
  assert.equal(canonicalPath('/\u00fc'), '/%C3%BC');
});

test('canonicalQuery sorts by encoded key, then value', () => {
  assert.equal(canonicalQuery(normalizeQuery('b=2&a=z&a=y&A=1&%E1%88%B4=v')), '%E1%88%B4=v&A=1&a=y&a=z&b=2');
  assert.equal(canonicalQuery([]), '');
});
