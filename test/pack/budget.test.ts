/**
 * The daily credit limit (bfl-config's dailyCreditLimit) in the package as users install it: a real Node-RED
 * (the packed-package harness) whose config nodes point at an emulator in this process over real HTTP, so
 * every submit can be counted. A limit reached by one message, by a burst of queued ones, and after a restart
 * of Node-RED with the same user directory.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_PATH, type BflEmulator } from '../../lib/emulator';
import { TEST_KEY, gradientPng, rectangleMask, startEmulator } from '../support/emulator';
import { startNodeRedProcess, type NodeRedProcess } from './node-red-process';
import { childEnv, nodeBinary, redJs, startPackedNodeRed, type Api, type PackedNodeRed } from './packed-node-red';

const TAB = 'b0d6e70000000000';
/** Config A: a limit of 5 (one fill). Config B: a limit of 10 (two fills), one task at a time. */
const CONFIG_A = 'b0d6e700000000a0';
const CONFIG_B = 'b0d6e700000000b0';

/** http in /<path> -> body to payload and mask -> bfl fill (config) -> http response with the image. */
function fillRoute(prefix: string, path: string, config: string): Array<Record<string, unknown>> {
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
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [[`${prefix}03`]],
    },
    {
      id: `${prefix}03`,
      type: 'bfl-fill',
      z: TAB,
      config,
      prompt: 'a budget balloon',
      outputFormat: 'png',
      timeout: 60,
      wires: [[`${prefix}04`]],
    },
    {
      id: `${prefix}04`,
      type: 'http response',
      z: TAB,
      statusCode: '200',
      headers: { 'content-type': 'image/png' },
      wires: [],
    },
  ];
}

function budgetFlow(apiUrl: string): Array<Record<string, unknown>> {
  const config = (id: string, name: string, dailyCreditLimit: number) => ({
    id,
    type: 'bfl-config',
    name,
    region: 'custom',
    baseUrl: apiUrl,
    maxConcurrent: 1,
    dailyCreditLimit,
    credentials: { apiKey: TEST_KEY },
  });
  return [
    { id: TAB, type: 'tab', label: 'budget' },
    ...fillRoute('b0d6e700000001', '/fill-a', CONFIG_A),
    ...fillRoute('b0d6e700000002', '/fill-b', CONFIG_B),
    { id: 'b0d6e70000000c01', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['b0d6e70000000c02']] },
    {
      id: 'b0d6e70000000c02',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
        { t: 'set', p: 'headers', pt: 'msg', to: '{"content-type":"application/json"}', tot: 'json' },
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code": error.code, "message": error.message}', tot: 'jsonata' },
      ],
      wires: [['b0d6e70000000c03']],
    },
    { id: 'b0d6e70000000c03', type: 'http response', z: TAB, statusCode: '', headers: {}, wires: [] },
    config(CONFIG_A, 'limit 5', 5),
    config(CONFIG_B, 'limit 10', 10),
  ];
}

describe('packed package in a real Node-RED: the daily credit limit', function () {
  let packed: PackedNodeRed | undefined;
  let nodeRed: NodeRedProcess | undefined;
  /** The Node-RED started again by the restart test, if it ran. */
  let restarted: NodeRedProcess | undefined;
  let api: Api;
  let emulator: BflEmulator;
  let body: string;

  before(async function () {
    // npm install fetches undici and sharp from the registry.
    this.timeout(300_000);
    emulator = await startEmulator();
    const image = await gradientPng(48, 32);
    const mask = await rectangleMask(48, 32, { left: 8, top: 8, width: 16, height: 12 });
    body = JSON.stringify({ image: image.toString('base64'), mask: mask.toString('base64') });
    packed = await startPackedNodeRed({ settings: { bflConfigPollInterval: 50 } });
    ({ nodeRed, api } = packed);

    const from = nodeRed.output().length;
    const answer = await api('/flows', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'full',
      },
      body: JSON.stringify({ flows: budgetFlow(emulator.apiUrl) }),
    });
    assert.equal(answer.status, 200, answer.text());
    await nodeRed.waitFor(/Started flows/, {
      from,
      failOn: /Waiting for missing types|missing-types|Failed to start/,
      timeoutMs: 30_000,
    });
  });

  after(async function () {
    this.timeout(60_000);
    await restarted?.stop();
    await packed?.stop();
    await emulator?.close();
  });

  afterEach(function () {
    const running = restarted ?? nodeRed;
    if (this.currentTest?.state === 'failed' && running) {
      console.log(`--- Node-RED output ---\n${running.output()}\n--- end of Node-RED output ---`);
    }
  });

  const submits = () => emulator.requests.filter((r) => r.method === 'POST' && r.path === SUBMIT_PATH).length;

  const fill = async (path: string) => {
    const answer = await api(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      timeoutMs: 60_000,
    });
    if (answer.status === 200) return { status: 200, code: 'ok', message: '' };
    const error = answer.json() as { code?: string; message?: string };
    return { status: answer.status, code: String(error.code), message: String(error.message) };
  };

  const checkKey = async (id: string, dailyCreditLimit: string) => {
    const answer = await api('/bfl-config/check-key', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, region: 'custom', baseUrl: emulator.apiUrl, dailyCreditLimit }),
    });
    assert.equal(answer.status, 200, answer.text());
    return answer.json() as { credits: number; spend: { spent: number; limit: number | null; resetsAt: number } };
  };

  it('lets one 5-credit fill through a limit of 5 and refuses the next with BFL_BUDGET, submitting nothing', async function () {
    const first = await fill('/fill-a');
    assert.equal(first.code, 'ok', first.message);
    assert.equal(submits(), 1);

    const second = await fill('/fill-a');
    assert.equal(second.status, 500);
    assert.equal(second.code, 'BFL_BUDGET', second.message);
    assert.match(second.message, /daily credit limit of 5 credits/);
    assert.match(second.message, /5 credits have been spent today/);
    assert.match(second.message, /Nothing was submitted/);
    assert.match(second.message, /resets at 00:00 UTC, in (\d+ h )?\d+ (h|min)/);
    assert.equal(submits(), 1, 'the refused job was submitted');

    const spend = JSON.parse(readFileSync(join(packed!.userDir, 'bfl', CONFIG_A, 'spend.json'), 'utf8')) as {
      spent: number;
    };
    assert.equal(spend.spent, 5);
    const check = await checkKey(CONFIG_A, '5');
    assert.deepEqual([check.spend.spent, check.spend.limit], [5, 5]);
  });

  it('submits exactly 2 of a burst of 6 queued messages under a limit that admits 2, and fails the rest with BFL_BUDGET', async function () {
    const before = submits();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => fill('/fill-b')));
    const codes = outcomes.map((outcome) => outcome.code).sort();
    assert.deepEqual(
      codes,
      ['BFL_BUDGET', 'BFL_BUDGET', 'BFL_BUDGET', 'BFL_BUDGET', 'ok', 'ok'],
      JSON.stringify(outcomes),
    );
    assert.equal(submits() - before, 2);
    for (const outcome of outcomes.filter((o) => o.code === 'BFL_BUDGET')) {
      assert.match(outcome.message, /daily credit limit of 10 credits/);
      assert.match(outcome.message, /10 credits have been spent today/);
    }
    const check = await checkKey(CONFIG_B, '');
    assert.deepEqual([check.spend.spent, check.spend.limit], [10, null]);
  });

  it('remembers the spend after a restart of Node-RED with the same user directory', async function () {
    this.timeout(120_000);
    const { userDir, work } = packed!;
    const port = Number(new URL(nodeRed!.url).port);
    await nodeRed!.stop();
    restarted = await startNodeRedProcess({
      redJs,
      node: nodeBinary,
      userDir,
      settingsFile: join(work, 'settings.js'),
      port,
      env: childEnv(),
      timeoutMs: 60_000,
    });
    const before = submits();
    const again = await fill('/fill-a');
    assert.equal(again.code, 'BFL_BUDGET', again.message);
    assert.match(again.message, /5 credits have been spent today/);
    const burst = await fill('/fill-b');
    assert.equal(burst.code, 'BFL_BUDGET', burst.message);
    assert.equal(submits(), before, 'a job was submitted after the restart');
    const check = await checkKey(CONFIG_A, '5');
    assert.deepEqual([check.spend.spent, check.spend.limit], [5, 5]);
  });
});
