/**
 * What the durable-jobs tests of the packed package share: their flow (two routes into two bfl-fill nodes, a
 * status node, and a report of every message sent on), a collector on 127.0.0.1 that hears those reports and
 * statuses, deploys through the admin API, and a watch on the journal for a task's submit.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { readdirSync, readFileSync, watch } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TEST_KEY } from '../support/emulator';
import type { NodeRedProcess } from './node-red-process';
import type { Api } from './packed-node-red';

export const TAB = 'd0ab1e0000000000';
export const CONFIG = 'd0ab1e00000000c0';
/** Its route answers 202 at once; the job goes on and reports what the node sends. */
export const FILL = 'd0ab1e0000000003';
/** Its route waits for the result: http in -> bfl-fill -> http response, as most flows do. */
export const DIRECT_FILL = 'd0ab1e0000000013';

/** What the flow reports for every message the fill node sends on. */
export interface Report {
  resumed: boolean;
  topic: unknown;
  camera: unknown;
  bytes: number;
  width: number;
  hasReq: boolean;
  taskId: string;
}

/** A status of the fill nodes as a status node sees it. */
export interface StatusReport {
  fill?: string;
  shape?: string;
  text?: string;
  source: { id: string };
}

export interface FlowOptions {
  /** The prompt of the direct route's node (a redeploy that changes it modifies that node). */
  prompt?: string;
  maxConcurrent?: number;
  /** The flow tab disabled: Node-RED stops its nodes as if they were deleted. */
  disabled?: boolean;
}

export function durableFlow(
  apiUrl: string,
  collector: string,
  options: FlowOptions = {},
): Array<Record<string, unknown>> {
  return [
    { id: TAB, type: 'tab', label: 'durable', disabled: options.disabled === true },
    {
      id: 'd0ab1e0000000001',
      type: 'http in',
      z: TAB,
      url: '/durable',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['d0ab1e0000000002', 'd0ab1e0000000006']],
    },
    {
      id: 'd0ab1e0000000002',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
        { t: 'set', p: 'topic', pt: 'msg', to: 'porch-1', tot: 'str' },
        { t: 'set', p: 'camera', pt: 'msg', to: '{"name":"porch","zone":3}', tot: 'json' },
      ],
      wires: [[FILL]],
    },
    {
      id: FILL,
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt: 'a quiet porch',
      outputFormat: 'png',
      timeout: 120,
      wires: [['d0ab1e0000000004']],
    },
    {
      id: 'd0ab1e0000000004',
      type: 'function',
      z: TAB,
      func: [
        'const png = msg.payload;',
        'msg.payload = { resumed: msg.bfl.resumed === true, topic: msg.topic, camera: msg.camera,',
        '  bytes: png.length, width: png.readUInt32BE(16), hasReq: msg.req !== undefined, taskId: msg.bfl.id };',
        "msg.headers = { 'content-type': 'application/json' };",
        'delete msg.req; delete msg.res;',
        'return msg;',
      ].join('\n'),
      outputs: 1,
      wires: [['d0ab1e0000000005']],
    },
    { id: 'd0ab1e0000000005', type: 'http request', z: TAB, method: 'POST', ret: 'txt', url: collector, wires: [] },
    { id: 'd0ab1e0000000006', type: 'http response', z: TAB, statusCode: '202', headers: {}, wires: [] },
    {
      id: 'd0ab1e0000000011',
      type: 'http in',
      z: TAB,
      url: '/direct',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['d0ab1e0000000012']],
    },
    {
      id: 'd0ab1e0000000012',
      type: 'change',
      z: TAB,
      rules: [
        { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
      ],
      wires: [[DIRECT_FILL]],
    },
    {
      id: DIRECT_FILL,
      type: 'bfl-fill',
      z: TAB,
      config: CONFIG,
      prompt: options.prompt ?? 'a quiet porch',
      outputFormat: 'png',
      timeout: 120,
      wires: [['d0ab1e0000000014']],
    },
    {
      id: 'd0ab1e0000000014',
      type: 'http response',
      z: TAB,
      statusCode: '200',
      headers: { 'content-type': 'image/png' },
      wires: [],
    },
    // Every status the fill nodes show, posted to the collector: what a user sees under the node.
    { id: 'd0ab1e0000000021', type: 'status', z: TAB, scope: [FILL, DIRECT_FILL], wires: [['d0ab1e0000000022']] },
    {
      id: 'd0ab1e0000000022',
      type: 'function',
      z: TAB,
      func: "msg.payload = msg.status; msg.headers = { 'content-type': 'application/json' }; return msg;",
      outputs: 1,
      wires: [['d0ab1e0000000023']],
    },
    {
      id: 'd0ab1e0000000023',
      type: 'http request',
      z: TAB,
      method: 'POST',
      ret: 'txt',
      url: collector.replace(/\/report$/, '/status'),
      wires: [],
    },
    {
      id: CONFIG,
      type: 'bfl-config',
      name: 'durable',
      region: 'custom',
      baseUrl: apiUrl,
      maxConcurrent: options.maxConcurrent ?? 2,
      credentials: { apiKey: TEST_KEY },
    },
  ];
}

/** Hears what the flow reports: each message sent on (`/report`) and each status (`/status`). */
export interface Collector {
  /** The `/report` URL; `/status` is beside it. */
  url: string;
  reports: Report[];
  statuses: StatusReport[];
  /** The next report from now on. */
  nextReport(): Promise<Report>;
  /** The first status from index `from` on that `accept` takes. */
  status(accept: (status: StatusReport) => boolean, from?: number): Promise<StatusReport>;
  close(): void;
}

export async function startCollector(): Promise<Collector> {
  const reports: Report[] = [];
  const statuses: StatusReport[] = [];
  const listeners = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (req.url === '/status') statuses.push(body as StatusReport);
      else reports.push(body as Report);
      res.end('ok');
      for (const listener of [...listeners]) listener();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const until = <T>(find: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        listeners.delete(check);
        resolve(found);
      };
      listeners.add(check);
      check();
    });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/report`,
    reports,
    statuses,
    nextReport: () => {
      const seen = reports.length;
      return until(() => reports[seen]);
    },
    status: (accept, from = 0) => until(() => statuses.slice(from).find(accept)),
    close: () => server.close(),
  };
}

export type DeploymentType = 'full' | 'flows' | 'nodes';

/** Deploys `flows` and waits for Node-RED to say it started them. */
export async function deploy(
  api: Api,
  nodeRed: NodeRedProcess,
  flows: Array<Record<string, unknown>>,
  type: DeploymentType = 'full',
): Promise<void> {
  const from = nodeRed.output().length;
  const answer = await api('/flows', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': type },
    body: JSON.stringify({ flows }),
  });
  assert.equal(answer.status, 200, answer.text());
  const started = { full: /Started flows/, flows: /Started modified flows/, nodes: /Started modified nodes/ }[type];
  await nodeRed.waitFor(started, { from, failOn: /missing-types|Failed to start/, timeoutMs: 30_000 });
}

/** Resolves with the first journal entry in `dir` whose task has been submitted (the journal's own files tell). */
export async function submittedEntry(dir: string): Promise<Record<string, unknown>> {
  const find = (): Record<string, unknown> | undefined => {
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.job.json'))) {
      try {
        const entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
        if (entry.state === 'submitted') return entry;
      } catch {
        // Being renamed into place: the next event has it whole.
      }
    }
    return undefined;
  };
  // The config node made the directory when it opened the journal; its files' renames are the events.
  const watcher = watch(dir);
  try {
    for (;;) {
      const found = find();
      if (found) return found;
      await once(watcher, 'change');
    }
  } finally {
    watcher.close();
  }
}
