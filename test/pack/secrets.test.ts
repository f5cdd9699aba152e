/**
 * The API key and the webhook secret stay secret, in the package as users install it: a real Node-RED (the
 * packed-package harness) logging at trace level, with metrics and audit, runs fills that succeed, fail in
 * several ways (the task failed, a 500 after the task was created, a connection reset after the submit, a key
 * the API refuses) and one resumed after Node-RED was killed mid-poll. Then everything the run produced is
 * searched for the key, the refused key and the webhook secrets, written plainly, in hex and in base64 at any
 * alignment: everything Node-RED printed, the exported flows, the credentials endpoint, the check-key answers,
 * every message and error that reached the flow's outputs, every status the fill nodes showed, and every file
 * in the user directory (the job journal and the spend file under bfl/ included) but the credentials file,
 * which Node-RED encrypts and which must not hold the key in plain text either.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { BflEmulator } from '../../lib/emulator';
import { gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { submittedEntry } from './durable-flow';
import { startNodeRedProcess, type HttpAnswer, type NodeRedProcess } from './node-red-process';
import { childEnv, nodeBinary, redJs, startPackedNodeRed, type Api, type PackedNodeRed } from './packed-node-red';

const KEY = `bfl-secret-key-${randomBytes(16).toString('hex')}`;
/** A well-formed key the emulator does not know: it answers 403, and this key must not show either. */
const REFUSED_KEY = `bfl-refused-key-${randomBytes(16).toString('hex')}`;
const WEBHOOK_SECRET = `whsec-${randomBytes(16).toString('hex')}`;
const REFUSED_WEBHOOK_SECRET = `whsec-refused-${randomBytes(16).toString('hex')}`;
const SECRETS = { KEY, REFUSED_KEY, WEBHOOK_SECRET, REFUSED_WEBHOOK_SECRET };

const TAB = '5ec7e70000000000';
const CONFIG = '5ec7e700000000a0';
const REFUSED_CONFIG = '5ec7e700000000b0';
const FILL = '5ec7e70000000103';
const REFUSED_FILL = '5ec7e70000000203';
const DURABLE_FILL = '5ec7e70000000303';

/**
 * The ways a secret could be written down: as it is, in hex, and in base64 starting at any of the three byte
 * offsets (only the characters that depend on the secret's bytes alone).
 */
function needles(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [secret, bytes.toString('hex')];
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    forms.push(encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6)));
  }
  return forms;
}

const NEEDLES = Object.entries(SECRETS).flatMap(([name, secret]) =>
  needles(secret).map((needle) => ({ name, needle: Buffer.from(needle, 'utf8') })),
);

/** The secrets (by name) found in `data`. */
function secretsIn(data: Buffer | string): string[] {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return [...new Set(NEEDLES.filter(({ needle }) => buffer.includes(needle)).map(({ name }) => name))];
}

/** Every file below `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** http in -> image, mask and prompt from the JSON body -> bfl fill -> report -> http response (and collector). */
function fillRoute(prefix: string, path: string, fill: string, config: string) {
  return [
    {
      id: `${prefix}01`,
      type: 'http in',
      z: TAB,
      url: path,
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [[`${prefix}02`]],
    },
    {
      id: `${prefix}02`,
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'prompt', pt: 'msg', to: 'payload.prompt', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [[fill]],
    },
    { id: fill, type: 'bfl-fill', z: TAB, config, prompt: '', outputFormat: 'png', timeout: 60, wires: [[REPORT]] },
  ];
}

const REPORT = '5ec7e70000000a01';
const REPORT_ERROR = '5ec7e70000000e01';
const REPORT_STATUS = '5ec7e70000000f01';
const COLLECT = '5ec7e70000000c01';

/**
 * A function node that turns the msg into a report: every property but req and res, Buffers as base64. Output
 * 1 answers the http request (when there is one), output 2 posts the report to the collector.
 */
function reportFunction(id: string, kind: string, statusCode: number, wires: string[][]) {
  return {
    id,
    type: 'function',
    z: TAB,
    outputs: 2,
    func: [
      `const report = { kind: ${JSON.stringify(kind)}, msg: {} };`,
      'for (const [name, value] of Object.entries(msg)) {',
      "  if (name === 'req' || name === 'res') continue;",
      "  report.msg[name] = Buffer.isBuffer(value) ? { base64: value.toString('base64') } : value;",
      '}',
      'const answer = msg.res ? msg : null;',
      'if (answer) {',
      '  answer.payload = report;',
      `  answer.statusCode = ${statusCode};`,
      "  answer.headers = { 'content-type': 'application/json' };",
      '}',
      'return [answer, { payload: report }];',
    ].join('\n'),
    wires,
  };
}

function secretsFlow(apiUrl: string, collector: string, webhookUrl: string): Array<Record<string, unknown>> {
  return [
    { id: TAB, type: 'tab', label: 'secrets' },
    ...fillRoute('5ec7e700000001', '/fill', FILL, CONFIG),
    ...fillRoute('5ec7e700000002', '/fill-refused', REFUSED_FILL, REFUSED_CONFIG),
    { id: COLLECT, type: 'http request', z: TAB, method: 'POST', ret: 'txt', url: collector, wires: [] },
    // The durable route answers at once; its job's result goes to the collector only.
    {
      id: '5ec7e70000000301',
      type: 'http in',
      z: TAB,
      url: '/durable',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['5ec7e70000000302', '5ec7e70000000306']],
    },
    {
      id: '5ec7e70000000302',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'prompt', pt: 'msg', to: 'payload.prompt', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [[DURABLE_FILL]],
    },
    {
      id: DURABLE_FILL,
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt: '',
      outputFormat: 'png',
      timeout: 120,
      wires: [['5ec7e70000000304']],
    },
    reportFunction('5ec7e70000000304', 'durable', 200, [[], [COLLECT]]),
    { id: '5ec7e70000000306', type: 'http response', z: TAB, statusCode: '202', headers: {}, wires: [] },
    reportFunction(REPORT, 'ok', 200, [['5ec7e70000000a02'], [COLLECT]]),
    { id: '5ec7e70000000a02', type: 'http response', z: TAB, statusCode: '', headers: {}, wires: [] },
    // Errors of every fill node, to the waiting http request and to the collector.
    { id: '5ec7e70000000e00', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [[REPORT_ERROR]] },
    reportFunction(REPORT_ERROR, 'error', 500, [['5ec7e70000000a02'], [COLLECT]]),
    // Every status the fill nodes show, to the collector.
    {
      id: '5ec7e70000000f00',
      type: 'status',
      z: TAB,
      scope: [FILL, REFUSED_FILL, DURABLE_FILL],
      wires: [[REPORT_STATUS]],
    },
    reportFunction(REPORT_STATUS, 'status', 200, [[], [COLLECT]]),
    // Results and errors also printed by debug nodes into Node-RED's log, which is searched too.
    {
      id: '5ec7e70000000d01',
      type: 'debug',
      z: TAB,
      active: true,
      tosidebar: true,
      console: true,
      tostatus: false,
      complete: 'bfl',
      targetType: 'msg',
      wires: [],
    },
    {
      id: '5ec7e70000000d02',
      type: 'debug',
      z: TAB,
      active: true,
      tosidebar: true,
      console: true,
      tostatus: false,
      complete: 'error',
      targetType: 'msg',
      wires: [],
    },
    {
      id: CONFIG,
      type: 'bfl-config',
      name: 'secret account',
      region: 'custom',
      baseUrl: apiUrl,
      maxConcurrent: 2,
      // Webhooks to this Node-RED's receiver: the secret goes to the API in each submit and comes back.
      webhookUrl,
      credentials: { apiKey: KEY, webhookSecret: WEBHOOK_SECRET },
    },
    {
      id: REFUSED_CONFIG,
      type: 'bfl-config',
      name: 'refused account',
      region: 'custom',
      baseUrl: apiUrl,
      maxConcurrent: 1,
      webhookUrl,
      credentials: { apiKey: REFUSED_KEY, webhookSecret: REFUSED_WEBHOOK_SECRET },
    },
  ].map((node) => {
    // The debug nodes listen to the fill nodes' outputs and the catch node.
    if (node.id === FILL || node.id === REFUSED_FILL || node.id === DURABLE_FILL) {
      const wires = (node as { wires: string[][] }).wires;
      return { ...node, wires: [[...wires[0]!, '5ec7e70000000d01']] };
    }
    if (node.id === '5ec7e70000000e00') return { ...node, wires: [[REPORT_ERROR, '5ec7e70000000d02']] };
    return node;
  });
}

interface Report {
  kind: string;
  msg: Record<string, unknown>;
}

describe('packed package in a real Node-RED: the API key and the webhook secret stay secret', function () {
  let packed: PackedNodeRed | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let restarted: NodeRedProcess | undefined;
  let api: Api;
  let emulator: BflEmulator;
  let collector: Server;
  const reports: Array<{ raw: string; report: Report }> = [];
  let reported: (() => void) | undefined;
  /** Everything searched, by where it came from. */
  const evidence: Array<{ where: string; data: Buffer | string }> = [];
  let body: (prompt: string) => string;

  before(async function () {
    this.timeout(300_000);
    emulator = await startEmulator({ keys: { [KEY]: 1000 } });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        reports.push({ raw, report: JSON.parse(raw) as Report });
        res.end('ok');
        reported?.();
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/report`;
    const image = (await gradientPng(48, 32)).toString('base64');
    const mask = (await rectangleMask(48, 32, { left: 8, top: 8, width: 16, height: 12 })).toString('base64');
    body = (prompt) => JSON.stringify({ image, mask, prompt });
    packed = await startPackedNodeRed({
      settings: {
        logging: { console: { level: 'trace', metrics: true, audit: true } },
        bflConfigPollInterval: 50,
        bflConfigRetryDelay: 10,
        bflConfigWebhookFallback: 500,
      },
    });
    ({ nodeRed, api } = packed);
    const from = nodeRed.output().length;
    const answer = await api('/flows', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: secretsFlow(emulator.apiUrl, collectorUrl, nodeRed.url) }),
    });
    assert.equal(answer.status, 200, answer.text());
    await nodeRed.waitFor(/Started flows/, { from, failOn: /missing-types|Failed to start/, timeoutMs: 30_000 });
  });

  after(async function () {
    this.timeout(60_000);
    await restarted?.stop();
    await packed?.stop();
    await emulator?.close();
    collector?.close();
  });

  afterEach(function () {
    const running = restarted ?? nodeRed;
    if (this.currentTest?.state === 'failed' && running) {
      console.log(`--- Node-RED output ---\n${running.output()}\n--- end of Node-RED output ---`);
    }
  });

  const keep = (where: string, answer: HttpAnswer) => {
    evidence.push({ where, data: `${JSON.stringify(answer.headers)}\n${answer.text()}` });
    return answer;
  };
  const fill = async (path: string, prompt: string) =>
    keep(
      `POST ${path} (${prompt})`,
      await api(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body(prompt),
        timeoutMs: 60_000,
      }),
    );
  const nextReport = (kind: string) =>
    new Promise<Report>((resolve) => {
      const check = () => {
        const found = reports.find(({ report }) => report.kind === kind);
        if (found) resolve(found.report);
      };
      reported = check;
      check();
    });

  it('runs fills that succeed and fail, with the key only in the x-key header of requests to the API', async function () {
    this.timeout(120_000);
    const ok = await fill('/fill', 'a lamp on a table');
    assert.equal(ok.status, 200, ok.text());
    const okReport = ok.json() as Report;
    const png = Buffer.from((okReport.msg.payload as { base64: string }).base64, 'base64');
    assert.equal((await sharp(png).metadata()).width, 48);

    // A forged webhook (wrong secret) is refused, the real one taken; a lost one is made up by polling.
    for (const prompt of ['a forged webhook [emulate:webhook=forge]', 'a lost webhook [emulate:webhook=drop]']) {
      const answer = await fill('/fill', prompt);
      assert.equal(answer.status, 200, `${prompt}: ${answer.text()}`);
    }
    assert.deepEqual([...new Set(emulator.webhooks.map((w) => `${w.forged ? 'forged' : 'real'} ${w.answer}`))].sort(), [
      'forged 401',
      'real 200',
    ]);

    const expected: Array<[string, string, string]> = [
      ['/fill', '[emulate:failed]', 'BFL_TASK_FAILED'],
      ['/fill', '[emulate:fault=submit:500-after-create]', 'BFL_SERVER'],
      ['/fill', '[emulate:fault=submit:reset-after]', 'BFL_NETWORK'],
      ['/fill', '[emulate:fault=poll:status=401:x1]', 'BFL_AUTH'],
      ['/fill-refused', 'a refused key', 'BFL_AUTH'],
    ];
    for (const [path, prompt, code] of expected) {
      const answer = await fill(path, prompt);
      assert.equal(answer.status, 500, `${prompt}: ${answer.text()}`);
      const report = answer.json() as Report;
      assert.equal((report.msg.error as { code?: string }).code, code, `${prompt}: ${answer.text()}`);
    }

    // The key goes to the API origin only, in x-key; polls of the cluster origin and downloads never carry it.
    const withKey = emulator.requests.filter((r) => r.headers['x-key'] !== undefined);
    assert.ok(withKey.length > 0);
    assert.deepEqual([...new Set(withKey.map((r) => r.origin))], ['api']);
    for (const request of emulator.requests) {
      const { 'x-key': _key, ...headers } = request.headers;
      assert.deepEqual(secretsIn(JSON.stringify({ ...request, headers })), [], `${request.origin} ${request.path}`);
    }
  });

  it('answers the check-key endpoint without the key, for the deployed key and a typed one', async function () {
    const deployed = await api('/bfl-config/check-key', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: CONFIG, region: 'custom', baseUrl: emulator.apiUrl, apiKey: '__PWRD__' }),
    });
    assert.equal(deployed.status, 200, deployed.text());
    keep('check-key (deployed key)', deployed);
    const typed = await api('/bfl-config/check-key', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ region: 'custom', baseUrl: emulator.apiUrl, apiKey: REFUSED_KEY }),
    });
    keep('check-key (a refused key typed)', typed);
    assert.match(typed.text(), /BFL_AUTH/);
  });

  it('resumes a job after Node-RED was killed mid-poll, with the journal at rest searched too', async function () {
    this.timeout(180_000);
    emulator.nextTask({ processingMs: 5_000 });
    const started = await fill('/durable', 'a lamp that survives');
    assert.equal(started.status, 202);
    const journal = join(packed!.userDir, 'bfl', CONFIG, 'jobs');
    await submittedEntry(journal);
    await nodeRed!.kill();
    // The journal and the spend file as a crash leaves them.
    for (const file of filesUnder(join(packed!.userDir, 'bfl'))) {
      evidence.push({ where: `after the kill: ${relative(packed!.userDir, file)}`, data: readFileSync(file) });
    }
    assert.ok(
      evidence.some((e) => e.where.includes('.job.json')),
      'a journal entry was there to search',
    );
    const resumed = nextReport('durable');
    restarted = await startNodeRedProcess({
      redJs,
      node: nodeBinary,
      userDir: packed!.userDir,
      settingsFile: join(packed!.work, 'settings.js'),
      port: Number(new URL(nodeRed!.url).port),
      env: childEnv(),
      timeoutMs: 60_000,
    });
    const report = await resumed;
    assert.equal((report.msg.bfl as { resumed?: boolean }).resumed, true);
  });

  it('shows the key and the secrets nowhere: output, flows, credentials, messages, statuses and files', async function () {
    this.timeout(60_000);
    const flows = await api('/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
    assert.equal(flows.status, 200);
    keep('GET /flows', flows);
    for (const id of [CONFIG, REFUSED_CONFIG]) {
      const credentials = await api(`/credentials/bfl-config/${id}`);
      assert.equal(credentials.status, 200);
      assert.deepEqual(credentials.json(), { has_apiKey: true, has_webhookSecret: true });
      keep(`GET /credentials/bfl-config/${id}`, credentials);
    }
    // Let the last statuses and reports arrive, then stop Node-RED so it has written everything it will.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await restarted!.stop();

    evidence.push({ where: 'Node-RED output (first run, trace)', data: nodeRed!.output() });
    evidence.push({ where: 'Node-RED output (after the restart, trace)', data: restarted!.output() });
    for (const { raw, report } of reports) evidence.push({ where: `collector: ${report.kind}`, data: raw });
    const files = filesUnder(packed!.userDir);
    const credentialsFile = files.find((file) => file.endsWith('flows_cred.json'));
    assert.ok(credentialsFile, 'Node-RED wrote its credentials file');
    const encrypted = readFileSync(credentialsFile);
    assert.match(encrypted.toString('utf8'), /^\{\s*"\$"\s*:/, 'the credentials file is encrypted');
    assert.deepEqual(secretsIn(encrypted), [], 'the credentials file holds a secret in plain text');
    for (const file of files.filter((f) => f !== credentialsFile)) {
      evidence.push({ where: relative(packed!.userDir, file), data: readFileSync(file) });
    }

    const kinds = new Set(reports.map(({ report }) => report.kind));
    assert.deepEqual([...kinds].sort(), ['durable', 'error', 'ok', 'status']);
    const statuses = reports.filter(({ report }) => report.kind === 'status').length;
    assert.ok(statuses >= 5, `statuses seen: ${statuses}`);
    assert.ok(
      files.some((file) => /[\\/]bfl[\\/].*spend\.json$/.test(file)),
      'the spend file was there to search',
    );
    assert.match(nodeRed!.output(), /\[trace\]/, 'Node-RED logged at trace level');
    // The errors reached the log (node.error and the debug node), so the search covers them there too.
    for (const code of ['BFL_TASK_FAILED', 'BFL_SERVER', 'BFL_NETWORK', 'BFL_AUTH']) {
      assert.ok(nodeRed!.output().includes(code), `${code} is not in Node-RED's output`);
    }

    const found = evidence
      .map(({ where, data }) => ({ where, secrets: secretsIn(data) }))
      .filter(({ secrets }) => secrets.length > 0);
    const bytes = evidence.reduce((sum, { data }) => sum + Buffer.byteLength(data), 0);
    const inUserDir = files.length - 1;
    console.log(
      `      searched ${evidence.length} sources (${(bytes / 1024 / 1024).toFixed(1)} MiB): Node-RED output of 2 runs ` +
        `(${nodeRed!.output().length + restarted!.output().length} characters at trace), ${reports.length} reports ` +
        `(${statuses} statuses), ${inUserDir} files in the user dir (${
          files.filter((file) => /^bfl[\\/]/.test(relative(packed!.userDir, file))).length
        } under bfl/ at the end, ${evidence.filter((e) => e.where.startsWith('after the kill')).length} after the kill), ` +
        `flows, credentials, check-key`,
    );
    assert.deepEqual(found, [], 'a secret was found');
    // The files really were searched: their sizes add up.
    assert.ok(files.every((file) => statSync(file).isFile()));
  });
});
