// Signs every case of cases.json with signOriginRequest and prints one JSON
// line per case, for a Rust test that signs the same requests with the
// aws-sigv4 crate and compares `authorization`:
//
//   node src/edge/test/sign-cases.mjs
//
// Signed cases print {name, outcome: "signed", method, path (origin path +
// uri, as forwarded), query (the forwarded, normalized query string),
// signedHeaders {name: value}, payloadSha256, region, service, time (RFC 3339),
// amzDate, credentials {accessKeyId, secretAccessKey, sessionToken?},
// authorization}. Cases that sign nothing print {name, outcome: "response",
// status} or {name, outcome: "error", error}.
//
// `node --test src/edge/test/` runs every .mjs under a test/ directory, so
// when started by the test runner this file checks its own output instead
// of printing it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { signOriginRequest } from '../signer.mjs';

const materialize = (data) => (typeof data === 'string' ? data : data.repeat.repeat(data.times));

// cases.json -> { doc, cases: [{ name, credentials, now, request, expect }] }
export function loadCases() {
  const doc = JSON.parse(readFileSync(new URL('./cases.json', import.meta.url), 'utf8'));
  const base = doc.defaults.request;
  const cases = doc.cases.map((c) => {
    const request = { ...base, ...c.request, headers: { ...base.headers, ...c.request.headers } };
    if (request.body) request.body = { ...request.body, data: materialize(request.body.data) };
    return { ...c, credentials: doc.credentials[c.credentials], now: new Date(doc.now), request };
  });
  return { doc, cases };
}

export function signCases() {
  const { doc, cases } = loadCases();
  return cases.map(({ name, credentials, now, request }) => {
    let out;
    try {
      out = signOriginRequest(request, { credentials, now });
    } catch (err) {
      return { name, outcome: 'error', error: err.message };
    }
    if (out.status) return { name, outcome: 'response', status: out.status };
    const auth = out.headers.authorization[0].value;
    const signedNames = /SignedHeaders=([^,]+)/.exec(auth)[1].split(';');
    return {
      name,
      outcome: 'signed',
      method: out.method,
      path: (request.origin.custom.path ?? '') + out.uri,
      query: out.querystring,
      signedHeaders: Object.fromEntries(signedNames.map((n) => [n, out.headers[n][0].value])),
      payloadSha256: out.headers['x-amz-content-sha256'][0].value,
      region: /\.lambda-url\.([^.]+)\.on\.aws$/.exec(request.origin.custom.domainName)[1],
      service: doc.service,
      time: now.toISOString().replace('.000Z', 'Z'),
      amzDate: out.headers['x-amz-date'][0].value,
      credentials,
      authorization: auth,
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.NODE_TEST_CONTEXT) {
    const { test } = await import('node:test');
    const assert = await import('node:assert/strict');
    test('sign-cases.mjs emits one complete line per case', () => {
      const lines = signCases();
      assert.equal(lines.length, loadCases().cases.length);
      for (const line of lines.filter((l) => l.outcome === 'signed')) {
        assert.deepEqual(Object.keys(line.signedHeaders).sort(), line.credentials.sessionToken
          ? ['host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']
          : ['host', 'x-amz-content-sha256', 'x-amz-date']);
        assert.match(line.authorization, /^AWS4-HMAC-SHA256 Credential=\S+\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/);
        assert.ok(line.path.startsWith('/') && line.amzDate === '20250314T150926Z' && line.time === '2025-03-14T15:09:26Z');
        assert.match(line.query, /^[A-Za-z0-9._~%=&-]*$/);
      }
    });
  } else {
    for (const line of signCases()) process.stdout.write(JSON.stringify(line) + '\n');
  }
}
