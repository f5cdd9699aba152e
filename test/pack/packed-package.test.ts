/**
 * The package as users get it: `npm pack` the built repository, `npm install` the tarball into a fresh
 * Node-RED user dir, start a real Node-RED (red.js, a child process on 127.0.0.1) and check through its admin
 * API what the editor would load — both edit dialogs and their help, the message catalogs in English and
 * German, the icon, the examples — then deploy a flow and run an image through it over HTTP.
 *
 * PACK_TEST_NODE_RED=/path/to/node-red/red.js runs it against another Node-RED (e.g. 5.x), PACK_TEST_NODE=/path/to/node
 * on another Node.js (see packed-node-red.ts; `npm run test:compat` does both). PACK_TEST_EXPECT_NODE_RED_MAJOR and
 * PACK_TEST_EXPECT_NODE_MAJOR make it check that it really ran on those majors. PACK_TEST_KEEP=1 keeps the temp dir.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { NodeRedProcess } from './node-red-process';
import {
  manifest,
  nodeBinary,
  nodeRedPackageVersion,
  PACKAGE,
  repoRoot,
  startPackedNodeRed,
  type Api,
  type PackedNodeRed,
} from './packed-node-red';

const TYPES = ['bfl-config', 'bfl-expand', 'bfl-fill'] as const;

/** A picture with a different colour in every pixel, so a shifted or re-encoded pixel cannot pass as equal. */
async function testImage(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 3;
      raw[at] = (x * 4) & 0xff;
      raw[at + 1] = (y * 5) & 0xff;
      raw[at + 2] = (x * 7 + y * 3) & 0xff;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Black (keep) with a white (fill) rectangle. */
function testMask(width: number, height: number, rect: Rect): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000000' } })
    .composite([{ input: { create: { ...rect, channels: 3, background: '#ffffff' } }, left: rect.left, top: rect.top }])
    .png()
    .toBuffer();
}

function inside(rect: Rect, x: number, y: number): boolean {
  return x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
}

async function rgb(image: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data, width: info.width, height: info.height };
}

/** The first text of the first <p> in a help file: enough to recognise that help in the editor's HTML. */
function firstParagraph(helpFile: string): string {
  const match = /<p>([^<]{12,})/.exec(readFileSync(helpFile, 'utf8'));
  assert.ok(match, `${helpFile} has no <p> with text`);
  return match[1]!.trim().slice(0, 60);
}

/** A string leaf where the two catalogs differ: proof that a catalog is the German one and not the fallback. */
function differingLeaf(de: unknown, en: unknown, path: string[] = []): { path: string[]; value: string } | undefined {
  if (typeof de === 'string') return typeof en === 'string' && en !== de ? { path, value: de } : undefined;
  if (de && typeof de === 'object') {
    for (const [key, value] of Object.entries(de)) {
      const found = differingLeaf(value, (en as Record<string, unknown> | undefined)?.[key], [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

function leaf(catalog: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], catalog);
}

describe('packed package in a real Node-RED', function () {
  let packed: PackedNodeRed | undefined;
  let userDir: string;
  let packedFiles: string[] = [];
  let nodeRed: NodeRedProcess | undefined;
  let api: Api;
  const apiKey = `pack-test-key-${randomBytes(12).toString('hex')}`;
  const configId = 'a11ce0000000c0f1';

  before(async function () {
    // npm install fetches undici and sharp from the registry.
    this.timeout(300_000);
    // Poll the emulator often: the end-to-end run then takes about a second.
    packed = await startPackedNodeRed({ settings: { bflConfigPollInterval: 100 } });
    ({ userDir, packedFiles, nodeRed, api } = packed);
  });

  after(async function () {
    this.timeout(60_000);
    await packed?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && nodeRed) {
      console.log(`--- Node-RED output ---\n${nodeRed.output()}\n--- end of Node-RED output ---`);
    }
  });

  it('runs on the Node-RED and the Node.js it was given', async function () {
    const answer = await api('/settings');
    assert.equal(answer.status, 200);
    const reported = (answer.json() as { version?: string }).version;
    // Node-RED adds "-git" when it finds a .git folder above it (as the repository's devDependency does).
    const version = nodeRedPackageVersion();
    assert.ok(
      reported === version || reported === `${version}-git`,
      `GET /settings reports Node-RED ${String(reported)}, but ${version} was started`,
    );
    assert.ok(nodeRed!.output().includes(`Node-RED version: v${reported!}`), 'no Node-RED version in the banner');
    const node = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
    assert.match(nodeRed!.output(), new RegExp(`Node\\.js\\s+version: ${node.replace(/\./g, '\\.')}\\s`));
    const expectNodeRed = process.env.PACK_TEST_EXPECT_NODE_RED_MAJOR;
    if (expectNodeRed) assert.equal(reported!.split('.')[0], expectNodeRed, `expected Node-RED ${expectNodeRed}.x`);
    const expectNode = process.env.PACK_TEST_EXPECT_NODE_MAJOR;
    if (expectNode) assert.equal(node.replace(/^v/, '').split('.')[0], expectNode, `expected Node.js ${expectNode}.x`);
    console.log(`      (Node-RED ${reported} on Node.js ${node})`);
  });

  it('packs the compiled nodes with their editor files, catalogs and icon beside them, and the examples', function () {
    for (const type of TYPES) {
      for (const file of [`${type}.js`, `${type}.html`, `locales/en-US/${type}.json`, `locales/de/${type}.json`]) {
        assert.ok(packedFiles.includes(`dist/nodes/${file}`), `the tarball lacks dist/nodes/${file}`);
      }
    }
    for (const icon of readdirSync(join(repoRoot, 'icons'))) {
      assert.ok(packedFiles.includes(`dist/nodes/icons/${icon}`), `the tarball lacks dist/nodes/icons/${icon}`);
    }
    assert.ok(
      packedFiles.some((file) => /^examples\/[^/]+\.json$/.test(file)),
      'the tarball has no example flow',
    );
    const sources = packedFiles.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'));
    assert.deepEqual(sources, [], 'TypeScript sources are packed');
    assert.ok(!packedFiles.some((file) => file.startsWith('test/')), 'tests are packed');
  });

  it('loads every node set from the installed package without errors', async function () {
    const answer = await api('/nodes', { headers: { Accept: 'application/json' } });
    assert.equal(answer.status, 200);
    type NodeSet = { id: string; module: string; types: string[]; enabled: boolean; err?: unknown };
    const sets = (answer.json() as NodeSet[]).filter((set) => set.module === PACKAGE);
    assert.deepEqual(
      sets.map((set) => set.id).sort(),
      TYPES.map((type) => `${PACKAGE}/${type}`),
    );
    for (const set of sets) {
      assert.equal(set.err, undefined, `${set.id}: ${String(set.err)}`);
      assert.equal(set.enabled, true, `${set.id} is disabled`);
    }
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...TYPES]);

    const module = await api(`/nodes/${PACKAGE}`, { headers: { Accept: 'application/json' } });
    assert.equal(module.status, 200);
    const info = module.json() as { version?: string; path?: string; local?: boolean; user?: boolean };
    assert.equal(info.version, manifest.version);
    assert.equal(info.path, join(userDir, 'node_modules', PACKAGE), 'not loaded from the installed tarball');
    assert.equal(info.user, true, 'not seen as a module the user installed');
  });

  it('serves every edit dialog and its English help', async function () {
    const answer = await api('/nodes', { headers: { Accept: 'text/html', 'Accept-Language': 'en-US' } });
    assert.equal(answer.status, 200);
    const html = answer.text();
    for (const type of TYPES) {
      assert.ok(html.includes(`data-template-name="${type}"`), `no edit dialog for ${type}`);
      assert.ok(html.includes(`data-help-name="${type}"`), `no help for ${type}`);
      assert.match(
        html,
        new RegExp(`RED\\.nodes\\.registerType\\(\\s*['"]${type}['"]`),
        `${type} is not registered in the editor`,
      );
    }
  });

  it('serves the German help when the browser asks for German', async function () {
    const answer = await api('/nodes', { headers: { Accept: 'text/html', 'Accept-Language': 'de' } });
    assert.equal(answer.status, 200);
    for (const type of TYPES) {
      const expected = firstParagraph(join(repoRoot, 'locales', 'de', `${type}.html`));
      assert.ok(answer.text().includes(expected), `the German help of ${type} is missing ("${expected}")`);
    }
  });

  for (const type of TYPES) {
    it(`serves the English message catalog of ${type}`, async function () {
      const expected = JSON.parse(readFileSync(join(repoRoot, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<
        string,
        unknown
      >;
      const answer = await api(`/nodes/${PACKAGE}/${type}/messages?lng=en-US`);
      assert.equal(answer.status, 200);
      const catalog = answer.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(catalog).sort(), Object.keys(expected).sort());
      const served = { ...(catalog[type] as Record<string, unknown>) };
      const source = { ...(expected[type] as Record<string, unknown>) };
      if (type === 'bfl-fill' && source.messages === undefined) {
        // The build merges the engine's runtime messages (lib/messages/en.json) in under bfl-fill.messages.
        const engine = JSON.parse(readFileSync(join(repoRoot, 'lib', 'messages', 'en.json'), 'utf8')) as unknown;
        assert.deepEqual(served.messages, engine, 'bfl-fill.messages is not lib/messages/en.json');
        delete served.messages;
      }
      assert.deepEqual(served, source);
    });

    it(`serves the German message catalog of ${type}`, async function () {
      const read = (lang: string) =>
        JSON.parse(readFileSync(join(repoRoot, 'locales', lang, `${type}.json`), 'utf8')) as unknown;
      const german = differingLeaf(read('de'), read('en-US'));
      assert.ok(german, `locales/de/${type}.json does not differ from English anywhere`);
      const answer = await api(`/nodes/${PACKAGE}/${type}/messages?lng=de`);
      assert.equal(answer.status, 200);
      assert.equal(leaf(answer.json(), german.path), german.value, `catalog key ${german.path.join('.')}`);
    });
  }

  it('lists and serves the package icons', async function () {
    const listed = await api('/icons');
    assert.equal(listed.status, 200);
    const icons = (listed.json() as Record<string, string[]>)[PACKAGE] ?? [];
    for (const icon of readdirSync(join(repoRoot, 'icons'))) {
      assert.ok(icons.includes(icon), `GET /icons does not list ${icon} for ${PACKAGE}: ${JSON.stringify(icons)}`);
      const served = await api(`/icons/${PACKAGE}/${icon}`);
      assert.equal(served.status, 200);
      // An unknown icon is answered with a default one, so compare the bytes.
      assert.ok(served.body.equals(readFileSync(join(repoRoot, 'icons', icon))), `${icon} is not the package's icon`);
      if (icon.endsWith('.svg')) assert.match(String(served.headers['content-type']), /image\/svg\+xml/);
    }
  });

  it('offers the example flows under Import > Examples', async function () {
    const answer = await api(`/library/examples/flows/${PACKAGE}`);
    assert.equal(answer.status, 200);
    const listed = JSON.stringify(answer.json());
    for (const file of readdirSync(join(repoRoot, 'examples')).filter((name) => name.endsWith('.json'))) {
      assert.ok(
        listed.includes(JSON.stringify(file.replace(/\.json$/, ''))),
        `example "${file}" is not offered: ${listed}`,
      );
    }
  });

  describe('a deployed flow: http in -> bfl fill (emulator) -> http response', function () {
    const flow = [
      { id: 'a11ce00000000000', type: 'tab', label: 'pack test' },
      {
        id: 'a11ce00000000001',
        type: 'http in',
        z: 'a11ce00000000000',
        url: '/fill',
        method: 'post',
        upload: false,
        swaggerDoc: '',
        wires: [['a11ce00000000002']],
      },
      {
        id: 'a11ce00000000002',
        type: 'change',
        z: 'a11ce00000000000',
        name: 'body -> payload, mask',
        rules: [
          { t: 'set', p: 'mask', pt: 'msg', to: 'payload.mask', tot: 'msg' },
          { t: 'set', p: 'payload', pt: 'msg', to: 'payload.image', tot: 'msg' },
        ],
        wires: [['a11ce00000000003']],
      },
      {
        id: 'a11ce00000000003',
        type: 'bfl-fill',
        z: 'a11ce00000000000',
        config: configId,
        prompt: 'a red balloon',
        outputFormat: 'png',
        timeout: 60,
        wires: [['a11ce00000000004']],
      },
      {
        id: 'a11ce00000000004',
        type: 'http response',
        z: 'a11ce00000000000',
        statusCode: '200',
        headers: { 'content-type': 'image/png' },
        wires: [],
      },
      {
        id: 'a11ce00000000005',
        type: 'catch',
        z: 'a11ce00000000000',
        scope: null,
        uncaught: false,
        wires: [['a11ce00000000006']],
      },
      {
        id: 'a11ce00000000006',
        type: 'change',
        z: 'a11ce00000000000',
        rules: [
          { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
          { t: 'set', p: 'headers', pt: 'msg', to: '{"content-type":"application/json"}', tot: 'json' },
          { t: 'set', p: 'payload', pt: 'msg', to: '{"code": error.code, "message": error.message}', tot: 'jsonata' },
        ],
        wires: [['a11ce00000000007']],
      },
      { id: 'a11ce00000000007', type: 'http response', z: 'a11ce00000000000', statusCode: '', headers: {}, wires: [] },
      {
        id: configId,
        type: 'bfl-config',
        name: 'emulator',
        region: 'emulator',
        baseUrl: '',
        maxConcurrent: 4,
        credentials: { apiKey },
      },
    ];
    const rect: Rect = { left: 16, top: 12, width: 24, height: 18 };

    before(async function () {
      const from = nodeRed!.output().length;
      const answer = await api('/flows', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Node-RED-API-Version': 'v2',
          'Node-RED-Deployment-Type': 'full',
        },
        body: JSON.stringify({ flows: flow }),
      });
      assert.equal(answer.status, 200, answer.text());
      await nodeRed!.waitFor(/Started flows/, {
        from,
        failOn: /Waiting for missing types|missing-types|Failed to start/,
        timeoutMs: 30_000,
      });
    });

    const fill = async (image: Buffer, mask: Buffer) =>
      api('/fill', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image: image.toString('base64'), mask: mask.toString('base64') }),
        timeoutMs: 60_000,
      });

    it('answers a PNG of the same size in which only the masked pixels changed', async function () {
      const image = await testImage(64, 48);
      const answer = await fill(image, await testMask(64, 48, rect));
      assert.equal(answer.status, 200, answer.text().slice(0, 500));
      assert.match(String(answer.headers['content-type']), /^image\/png/);
      assert.equal((await sharp(answer.body).metadata()).format, 'png');
      const [input, output] = await Promise.all([rgb(image), rgb(answer.body)]);
      assert.deepEqual([output.width, output.height], [64, 48]);
      let changedInside = 0;
      for (let y = 0; y < 48; y += 1) {
        for (let x = 0; x < 64; x += 1) {
          const at = (y * 64 + x) * 3;
          const same = input.data.subarray(at, at + 3).equals(output.data.subarray(at, at + 3));
          if (inside(rect, x, y)) {
            if (!same) changedInside += 1;
          } else {
            assert.ok(same, `pixel (${x},${y}) outside the mask changed`);
          }
        }
      }
      assert.ok(changedInside > (rect.width * rect.height) / 2, `only ${changedInside} masked pixels changed`);
    });

    it('reports a bad input to the Catch node with its code', async function () {
      const answer = await fill(
        await testImage(64, 48),
        await testMask(32, 24, { left: 4, top: 4, width: 8, height: 8 }),
      );
      assert.equal(answer.status, 500);
      const error = answer.json() as { code?: string; message?: string };
      assert.equal(error.code, 'BFL_INVALID_INPUT');
      assert.match(String(error.message), /size/i);
    });

    it('keeps the key a credential: stored, but not in the exported flows nor in plain text on disk', async function () {
      const credentials = await api(`/credentials/bfl-config/${configId}`);
      assert.equal(credentials.status, 200);
      assert.equal((credentials.json() as { has_apiKey?: boolean }).has_apiKey, true);
      assert.ok(!credentials.text().includes(apiKey), 'GET /credentials returned the key');

      const flows = await api('/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
      assert.equal(flows.status, 200);
      assert.ok(!flows.text().includes(apiKey), 'GET /flows contains the key');
      assert.ok((flows.json() as { flows: Array<{ id: string }> }).flows.some((node) => node.id === configId));

      for (const file of readdirSync(userDir).filter((name) => name.endsWith('.json'))) {
        assert.ok(
          !(await readFile(join(userDir, file), 'utf8')).includes(apiKey),
          `${file} holds the key in plain text`,
        );
      }
      assert.ok(!nodeRed!.output().includes(apiKey), 'Node-RED printed the key');
    });
  });
});
