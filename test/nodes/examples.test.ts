/**
 * The example flows under examples/ (Import → Examples) run as they are against the built-in emulator: each
 * is loaded with the core nodes it uses, its debug nodes stand in as observers, and its inject nodes are
 * clicked the way a user would.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { configNode, expandNode, fillNode, helper, node, settings } from './flow';

// Core nodes are plain CommonJS files found at run time, not modules TypeScript can import.
const loadCore = createRequire(__filename);
const CORE = join(loadCore.resolve('@node-red/nodes/package.json'), '..', 'core');
const coreNodes = [
  'common/20-inject.js',
  'common/25-catch.js',
  'common/90-comment.js',
  'function/10-function.js',
  'function/10-switch.js',
  'function/15-change.js',
  'storage/10-file.js',
].map((file) => loadCore(join(CORE, file)) as (red: unknown) => void);

type FlowNode = { id: string; type: string; name?: string; wires?: string[][] } & Record<string, unknown>;

function example(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', name), 'utf8')) as FlowNode[];
}

/** The example on a tab, with its debug nodes replaced by test helper nodes of the same id. */
function onTab(flow: FlowNode[]): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'example' },
    ...flow.map((n) =>
      n.type === 'bfl-config'
        ? n
        : { ...n, z: 'tab', x: n.x ?? 100, y: n.y ?? 100, type: n.type === 'debug' ? 'helper' : n.type },
    ),
  ];
}

function byName(flow: FlowNode[], name: string): FlowNode {
  const found = flow.find((n) => n.name === name);
  assert.ok(found, `the example has no node named "${name}"`);
  return found;
}

function nextAt(id: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => node(id).once('input', resolve));
}

describe('example flows', function () {
  before(() => settings({ bflConfigPollInterval: 10, bflConfigEmulator: { processingMs: 30 } }));
  afterEach(() => helper.unload());
  after(() => settings({}));

  const load = (flow: FlowNode[]) => helper.load([configNode, fillNode, expandNode, ...coreNodes], onTab(flow), {});

  it('01 fills the embedded picture with its mask', async () => {
    const flow = example('01 Fill an image with a mask.json');
    await load(flow);
    const result = nextAt(byName(flow, 'result (msg.bfl)').id);
    node(byName(flow, 'lake picture + mask').id).receive({});
    const msg = await result;
    assert.ok(Buffer.isBuffer(msg.payload));
    assert.equal((await sharp(msg.payload).metadata()).format, 'jpeg');
  });

  it('02 fills the transparent hole of the embedded picture', async () => {
    const flow = example('02 Fill using the alpha channel.json');
    await load(flow);
    const result = nextAt(byName(flow, 'result (msg.bfl)').id);
    node(byName(flow, 'picture with a hole').id).receive({});
    const msg = await result;
    assert.equal((await sharp(msg.payload as Buffer).metadata()).format, 'png');
  });

  it('05 fills the shapes drawn in the node, with no msg.mask', async () => {
    const flow = example('07 Fill the area drawn in the node.json');
    await load(flow);
    const result = nextAt(byName(flow, 'result (msg.bfl)').id);
    node(byName(flow, 'lake picture').id).receive({});
    const msg = await result;
    assert.equal((await sharp(msg.payload as Buffer).metadata()).format, 'png');
  });

  it('03 routes moderation and other errors to their own debug nodes', async () => {
    const flow = example('03 Route moderation and errors.json');
    await load(flow);
    const injects = flow.filter((n) => n.type === 'inject');
    const helpers = flow.filter((n) => n.type === 'debug');
    assert.ok(injects.length >= 2 && helpers.length >= 2);
    const seen = new Map<string, Record<string, unknown>>();
    const both = new Promise<void>((resolve) => {
      for (const debug of helpers) {
        node(debug.id).on('input', (msg: Record<string, unknown>) => {
          seen.set(debug.id, msg);
          if (seen.size === 2) resolve();
        });
      }
    });
    for (const inject of injects) node(inject.id).receive({});
    await both;
    const codes = [...seen.values()].map((msg) => (msg.error as { code: string }).code).sort();
    assert.deepEqual(codes, ['BFL_INVALID_INPUT', 'BFL_REQUEST_MODERATED']);
  });

  it('04 writes sample files, fills the picture file with the mask file and writes the result file', async () => {
    const flow = example('04 Fill a file with a mask file.json');
    const dir = '/tmp/bfl-example';
    rmSync(dir, { recursive: true, force: true });
    const writer = byName(flow, 'write sample file');
    writer.wires = [['written']];
    await load([...flow, { id: 'written', type: 'helper', z: 'tab' }]);
    let writes = 0;
    const bothWritten = new Promise<void>((resolve) =>
      node('written').on('input', () => {
        writes += 1;
        if (writes === 2) resolve();
      }),
    );
    node(byName(flow, 'write sample files').id).receive({});
    await bothWritten;
    assert.ok(existsSync(join(dir, 'picture.png')) && existsSync(join(dir, 'mask.png')));

    const result = nextAt(byName(flow, 'result (msg.bfl)').id);
    node(byName(flow, 'fill the file').id).receive({});
    const msg = await result;
    assert.ok((msg.bfl as { id?: string }).id);
    const written = readFileSync(join(dir, 'result.jpg'));
    const meta = await sharp(written).metadata();
    const picture = await sharp(join(dir, 'picture.png')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', picture.width, picture.height]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('05 widens the embedded 4:3 picture to 16:9, and makes it taller with msg.expand', async () => {
    const flow = example('05 Expand a picture to 16-9.json');
    await load(flow);
    const result = byName(flow, 'result (msg.bfl)').id;
    let next = nextAt(result);
    node(byName(flow, '4:3 picture').id).receive({});
    let meta = await sharp((await next).payload as Buffer).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 512, 288]);
    next = nextAt(result);
    node(byName(flow, '4:3 picture, msg.expand bottom 80').id).receive({});
    meta = await sharp((await next).payload as Buffer).metadata();
    assert.deepEqual([meta.width, meta.height], [384, 368]);
  });

  it('06 fills with the fine-tune named in msg.finetune', async () => {
    const flow = example('06 Fill with a fine-tune.json');
    await load(flow);
    const result = nextAt(byName(flow, 'result (msg.bfl)').id);
    node(byName(flow, 'lake picture + mask + msg.finetune').id).receive({});
    const msg = await result;
    assert.ok((msg.bfl as { id?: string }).id);
    assert.equal((await sharp(msg.payload as Buffer).metadata()).width, 256);
  });
});
