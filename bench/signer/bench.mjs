// Benchmark, not a test: src/edge/signer.mjs against @smithy/signature-v4 (the
// AWS SDK v3 signer) on the same 1,000 generated CloudFront origin requests.
//
//   cd bench/signer && npm ci && node bench.mjs
//
// Both sides do the whole origin-request job: parse and normalize the query,
// hash the decoded body, sign host + x-amz-date + x-amz-content-sha256
// (+ x-amz-security-token) for service lambda, and build the forwarded
// CloudFront headers. Their Authorization values are compared on every
// request before anything is timed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { signOriginRequest } from '../../src/edge/signer.mjs';

const SIGNER_URL = new URL('../../src/edge/signer.mjs', import.meta.url);
const SMITHY_VERSION = JSON.parse(readFileSync(new URL('./node_modules/@smithy/signature-v4/package.json', import.meta.url))).version;
const REQUESTS = 1000;
const ROUNDS = 15;
const PASSES = 3; // passes over the 1,000 requests per round

// ---- 1,000 deterministic origin requests --------------------------------
let seed = 0x5eed;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = (list) => list[Math.floor(rand() * list.length)];

const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET',
  'POST', 'POST', 'POST', 'POST', 'PUT', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const PARAMS = ['page=2', 'limit=50', 'sort=-created', 'q=hello+world', 'q=caf%C3%A9', 'tag=a&tag=b', 'filter[status]=open',
  'email=a%2Bb%40example.com', 'redirect=%2Fhome%3Fx%3D1', 'flag', 'empty=', 'name=J%C3%BCrgen', 'ids=1,2,3', "note='hi'!",
  'utm_source=newsletter&utm_medium=email', 'cursor=eyJpZCI6MTIzfQ==', 'pct=100%', 'x=%E2%9C%93'];
const BODY_SIZES = [0, 64, 256, 256, 512, 1024, 1024, 2048, 4096, 16384];
const DOMAIN = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';
const h = (key, value) => [{ key, value }];

function makeRequest(i) {
  const method = pick(METHODS);
  const query = Array.from({ length: Math.floor(rand() * 5) }, () => pick(PARAMS)).join('&');
  const request = {
    clientIp: '203.0.113.10',
    method,
    uri: pick(['/', '/api/items', `/api/items/${i}`, '/api/users/me/orders', '/files/report%202024.pdf']),
    querystring: query,
    headers: {
      host: h('Host', 'd111111abcdef8.cloudfront.net'),
      'user-agent': h('User-Agent', 'Mozilla/5.0 (bench)'),
      accept: h('Accept', 'application/json'),
      'accept-encoding': h('Accept-Encoding', 'gzip, br'),
      ...(rand() < 0.3 ? { authorization: h('Authorization', 'Bearer app-token') } : {}),
    },
    origin: { custom: { customHeaders: {}, domainName: DOMAIN, keepaliveTimeout: 5, path: rand() < 0.5 ? '' : '/prod', port: 443, protocol: 'https', readTimeout: 30, sslProtocols: ['TLSv1.2'] } },
  };
  if (['POST', 'PUT', 'PATCH'].includes(method)) {
    const size = pick(BODY_SIZES);
    const text = JSON.stringify({ i, pad: 'x'.repeat(Math.max(0, size - 20)) }).slice(0, Math.max(size, 2));
    request.headers['content-type'] = h('Content-Type', 'application/json');
    request.body = rand() < 0.5
      ? { inputTruncated: false, action: 'read-only', encoding: 'text', data: text }
      : { inputTruncated: false, action: 'read-only', encoding: 'base64', data: Buffer.from(text).toString('base64') };
  }
  return request;
}
const requests = Array.from({ length: REQUESTS }, (_, i) => makeRequest(i));
const credentials = { accessKeyId: 'ASIAEXAMPLEBENCH0001', secretAccessKey: 'benchSecretEXAMPLE/0123456789+abcdefghijk', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEbenchToken=='.repeat(20) };
const now = new Date('2025-03-14T15:09:26Z');

// ---- The same job with @smithy/signature-v4 -----------------------------
const smithy = new SignatureV4({ service: 'lambda', region: 'us-east-1', sha256: Hash.bind(null, 'sha256'), credentials: async () => credentials });
const escape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

async function smithyOriginRequest(request) {
  const origin = request.origin.custom;
  const region = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(origin.domainName)[1];
  const params = [...new URLSearchParams(request.querystring)];
  const query = {};
  for (const [k, v] of params) (query[k] ??= []).push(v);
  const body = request.body?.data ? Buffer.from(request.body.data, request.body.encoding === 'base64' ? 'base64' : 'utf8') : undefined;
  const signed = await smithy.sign(
    { method: request.method, protocol: 'https:', hostname: origin.domainName, path: origin.path + request.uri, query, headers: { host: origin.domainName }, body },
    { signingDate: now, signingRegion: region, signingService: 'lambda' },
  );
  const headers = {};
  for (const name in request.headers) {
    if (name !== 'authorization' && name !== 'x-forwarded-authorization' && name !== 'host' && !name.startsWith('x-amz-')) headers[name] = request.headers[name];
  }
  if (request.headers.authorization) headers['x-forwarded-authorization'] = request.headers.authorization.map((x) => ({ key: 'X-Forwarded-Authorization', value: x.value }));
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = [{ key: name, value }];
  return { ...request, querystring: params.map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&'), headers };
}

// ---- Sanity: both sign every request identically ------------------------
let same = 0;
let firstDiff;
for (const request of requests) {
  const ours = signOriginRequest(request, { credentials, now }).headers.authorization[0].value;
  const theirs = (await smithyOriginRequest(request)).headers.authorization[0].value;
  if (ours === theirs) same++;
  else firstDiff ??= { request, ours, theirs };
}

// ---- Throughput: rounds alternate between the two, so machine noise hits
// both; time is this process's CPU time (user + system), which other load on
// the machine disturbs far less than wall-clock time.
const ours = (request) => signOriginRequest(request, { credentials, now });
async function rate(fn) {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let pass = 0; pass < PASSES; pass++) for (const request of requests) await fn(request);
  const used = process.cpuUsage(cpu);
  const n = PASSES * REQUESTS;
  return { cpu: n / ((used.user + used.system) / 1e6), wall: n / (Number(process.hrtime.bigint() - wall) / 1e9) };
}
await rate(ours); // warm-up
await rate(smithyOriginRequest);
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const o = await rate(ours);
  const s = await rate(smithyOriginRequest);
  rounds.push({ o, s });
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const summary = (clock) => ({
  ours: median(rounds.map((r) => r.o[clock])),
  smithy: median(rounds.map((r) => r.s[clock])),
  ratio: median(rounds.map((r) => r.o[clock] / r.s[clock])),
});
const cpu = summary('cpu');
const wall = summary('wall');

// ---- Import time in fresh node processes (median of 11 each) ------------
// "loader up": the timed import() runs from a module file, so Node's ES module
// loader is already initialized, as when a runtime that is itself an ES module
// imports the handler. "cold": `node -e`, where the first file import also
// pays for starting that loader. node:crypto alone is the floor for any
// signer built on it.
const IMPORT_RUNS = 11;
const timing = (urls) => `const t = performance.now(); for (const u of ${JSON.stringify(urls)}) await import(u); console.log(performance.now() - t);`;
const tmp = mkdtempSync(join(tmpdir(), 'signer-bench-'));
function importMs(urls, cold) {
  const entry = join(tmp, `entry-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(entry, timing(urls));
  const args = cold ? ['--input-type=module', '-e', timing(urls)] : [entry];
  return median(Array.from({ length: IMPORT_RUNS }, () => Number(execFileSync(process.execPath, args).toString())));
}
const SMITHY_URLS = [import.meta.resolve('@smithy/signature-v4'), import.meta.resolve('@smithy/hash-node')];
const imports = {};
for (const cold of [false, true]) {
  imports[cold ? 'cold' : 'warm'] = { ours: importMs([SIGNER_URL.href], cold), crypto: importMs(['node:crypto'], cold), smithy: importMs(SMITHY_URLS, cold) };
}
rmSync(tmp, { recursive: true });

// ---- Report -------------------------------------------------------------
const bodies = requests.filter((r) => r.body).map((r) => Buffer.byteLength(r.body.data, r.body.encoding === 'base64' ? 'base64' : 'utf8'));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`urlguard edge signer vs @smithy/signature-v4 ${SMITHY_VERSION} (node ${process.version}, ${REQUESTS} origin requests, ${PASSES * REQUESTS} signs per round)`);
console.log(`  requests: ${requests.filter((r) => r.querystring).length} with a query, ${bodies.length} with a body (${Math.min(...bodies)}-${Math.max(...bodies)} bytes, mean ${fmt(bodies.reduce((a, b) => a + b, 0) / bodies.length)})`);
console.log(`  sanity: identical Authorization on ${same}/${REQUESTS} requests`);
if (firstDiff) {
  console.log('  first difference:', JSON.stringify(firstDiff, null, 2));
  process.exitCode = 1;
}
console.log(`  signs/second   ours ${fmt(cpu.ours)}   smithy ${fmt(cpu.smithy)}   ratio ${cpu.ratio.toFixed(2)}x   per CPU second (goal >= 3x)`);
console.log(`  signs/second   ours ${fmt(wall.ours)}   smithy ${fmt(wall.smithy)}   ratio ${wall.ratio.toFixed(2)}x   per wall-clock second`);
console.log(`                 (medians over ${ROUNDS} alternating rounds of ${PASSES}x${REQUESTS} signs; ratio = median of per-round ratios)`);
console.log(`  module size    ${statSync(SIGNER_URL).size} bytes (goal <= 10 KB)`);
const ms = (n) => `${n.toFixed(2)} ms`;
for (const [label, t] of [['loader up', imports.warm], ['cold -e  ', imports.cold]]) {
  console.log(`  import time    ${label}: ours ${ms(t.ours)}   node:crypto alone ${ms(t.crypto)}   smithy ${ms(t.smithy)}   (median of ${IMPORT_RUNS} fresh node processes; goal <= 5 ms)`);
}
