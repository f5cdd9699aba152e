import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, jsonSafeProperties, keyFingerprint, type JournalEntry } from '../../lib/engine/journal';
import { resolveImageOptions } from '../../lib/fields';
import { planInputs, type FillGeometry } from '../../lib/image';
import { FILL_PARAMETERS, gradientPng, rectangleMask } from '../support/emulator';

const KEY = 'bfl_journal_test_key_0123456789';
const TASK = {
  id: 'task-1',
  pollingUrl: 'https://api.eu2.bfl.ai/v1/get_result?id=task-1',
  cost: 5,
  inputMp: 0.1,
  outputMp: 0.1,
};

describe('the job journal', () => {
  let dir: string;
  let geometry: FillGeometry;

  before(async () => {
    const image = await gradientPng(40, 30);
    const mask = await rectangleMask(40, 30, { left: 5, top: 5, width: 10, height: 10 });
    ({ geometry } = await planInputs(image, mask, resolveImageOptions()));
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bfl-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => readdirSync(dir).sort();
  const entryFileName = () => files().find((name) => name.endsWith('.job.json'));
  const imageFileName = () => files().find((name) => name.endsWith('.job.image'));
  const begin = (journal: Journal, nodeId = 'node-1', msg: Record<string, unknown> = { topic: 't' }) =>
    journal.begin({ nodeId, parameters: FILL_PARAMETERS, timeoutMs: 60_000, msg, geometry });
  /** An entry as a previous process left it. */
  const leftBehind = (entry: Partial<JournalEntry> & { id: string }) =>
    writeFileSync(
      join(dir, `${entry.id}.job.json`),
      JSON.stringify({
        version: 1,
        nodeId: 'node-1',
        createdAt: 1,
        keyFingerprint: keyFingerprint(KEY),
        state: 'submitted',
        task: TASK,
        submittedAt: 1,
        parameters: FILL_PARAMETERS,
        timeoutMs: 60_000,
        msg: {},
        ...entry,
      }),
    );

  it('keeps a job from its submit to its end, with its image for paste-back, and never the key', async () => {
    const journal = new Journal({ dir, apiKey: KEY });
    await journal.entries();
    const record = begin(journal);
    await record.submitted(TASK, 1234);
    const entryFile = entryFileName();
    const imageFile = imageFileName();
    assert.match(entryFile!, /^node-1-.*\.job\.json$/);
    assert.match(imageFile!, /^node-1-.*\.job\.image$/);
    const written = readFileSync(join(dir, entryFile!), 'utf8');
    assert.doesNotMatch(written, new RegExp(KEY));
    const entry = JSON.parse(written) as JournalEntry;
    assert.equal(entry.state, 'submitted');
    assert.deepEqual(entry.task, TASK);
    assert.equal(entry.submittedAt, 1234);
    assert.deepEqual(entry.msg, { topic: 't' });
    assert.deepEqual(readFileSync(join(dir, imageFile!)), geometry.source.data);
    await record.remove();
    assert.deepEqual(files(), []);
  });

  it('resumes what a previous process left, with its geometry and image', async () => {
    leftBehind({ id: 'node-1-a', geometry: undefined });
    const journal = new Journal({ dir, apiKey: KEY });
    const { entries, problems } = await journal.entries();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((entry) => entry.id),
      ['node-1-a'],
    );
    const loaded = await journal.load(entries[0]!);
    assert.equal(loaded.geometry, undefined);
    await journal.drop(entries[0]!);
    assert.deepEqual(files(), []);
  });

  it('gives back the stored geometry with the image read from disk', async () => {
    const writer = new Journal({ dir, apiKey: KEY });
    const record = begin(writer);
    await record.submitted(TASK, 1);
    const entryFile = entryFileName();
    const entry = JSON.parse(readFileSync(join(dir, entryFile!), 'utf8')) as JournalEntry;
    const loaded = (await writer.load(entry)).geometry as FillGeometry;
    assert.deepEqual(loaded.source.data, geometry.source.data);
    assert.deepEqual(loaded.mask.png, geometry.mask.png);
    assert.deepEqual(loaded.crop, geometry.crop);
    await record.remove();
  });

  it('leaves alone the jobs of this process when the journal is opened again (a redeployed config node)', async () => {
    const first = new Journal({ dir, apiKey: KEY });
    const record = begin(first);
    await record.submitted(TASK, 1);
    const again = new Journal({ dir, apiKey: KEY });
    assert.deepEqual((await again.entries()).entries, []);
    await record.remove();
  });

  it('sets a corrupt or truncated file aside at start-up, reports it, and goes on', async () => {
    leftBehind({ id: 'node-1-good' });
    writeFileSync(join(dir, 'node-1-torn.job.json'), '{"version":1,"id":"node-1-torn","nodeI');
    writeFileSync(join(dir, 'node-1-old.job.json'), JSON.stringify({ version: 0, id: 'x' }));
    writeFileSync(join(dir, 'node-1-crash.job.json.1234.tmp'), 'half');
    const { entries, problems } = await new Journal({ dir, apiKey: KEY }).entries();
    assert.deepEqual(
      entries.map((entry) => entry.id),
      ['node-1-good'],
    );
    assert.deepEqual(problems.map((problem) => problem.file).sort(), ['node-1-old.job.json', 'node-1-torn.job.json']);
    assert.deepEqual(files(), ['node-1-good.job.json']);
  });

  it('keeps no image over its cap: the job still runs, and resumes without paste-back', async () => {
    const journal = new Journal({ dir, apiKey: KEY, capBytes: 10 });
    const record = begin(journal);
    await record.submitted(TASK, 1);
    assert.deepEqual(
      files().filter((name) => name.endsWith('.image')),
      [],
    );
    const entry = JSON.parse(readFileSync(join(dir, entryFileName()!), 'utf8')) as JournalEntry;
    assert.equal(entry.overCap, true);
    assert.equal(entry.geometry, undefined);
    await record.remove();
  });

  it('reports a write that fails, and the job goes on', async () => {
    const blocked = join(dir, 'not-a-directory');
    writeFileSync(blocked, 'x');
    const errors: unknown[] = [];
    const journal = new Journal({ dir: blocked, apiKey: KEY, onWriteError: (error) => errors.push(error) });
    await journal.entries().catch(() => undefined);
    const record = begin(journal);
    await record.submitted(TASK, 1);
    await record.remove();
    assert.ok(errors.length >= 1);
  });

  it('makes its directory when there is none', async () => {
    const nested = join(dir, 'a', 'b');
    await new Journal({ dir: nested, apiKey: KEY }).entries();
    assert.equal(existsSync(nested), true);
    mkdirSync(join(nested, 'c'));
  });
});

describe('the properties a resumed message keeps', () => {
  it('keeps what survives JSON, and drops the images, the HTTP request and response, and the rest', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const kept = jsonSafeProperties({
      payload: Buffer.from('image'),
      mask: [{ x: 1 }],
      req: {},
      res: {},
      topic: 'porch',
      camera: { name: 'porch', zones: [1, 2] },
      count: 3,
      flag: false,
      none: null,
      buffer: Buffer.from('x'),
      nested: { buffer: Buffer.from('y') },
      fn: () => 1,
      big: 1n,
      circular,
      undef: undefined,
    });
    assert.deepEqual(kept, {
      topic: 'porch',
      camera: { name: 'porch', zones: [1, 2] },
      count: 3,
      flag: false,
      none: null,
    });
  });
});
