/** An expand submitted before a restart: the journal keeps its geometry, and the resumed result is composed as asked. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { BflClient } from '../../lib/api/client';
import { emulatorEndpoint } from '../../lib/api/regions';
import type { BflEmulator } from '../../lib/emulator';
import { resumeFill } from '../../lib/engine/fill';
import { Journal, type JournalEntry } from '../../lib/engine/journal';
import type { FillService } from '../../lib/engine/service';
import { planExpand } from '../../lib/image';
import { FILL_PARAMETERS, TEST_KEY, fastService, gradientPng, startEmulator } from '../support/emulator';

describe('expand jobs in the journal', () => {
  let emulator: BflEmulator;
  let service: FillService;
  let client: BflClient;
  let dir: string;
  const signal = new AbortController().signal;

  beforeEach(async () => {
    emulator = await startEmulator();
    service = fastService(emulator);
    client = new BflClient({ endpoint: emulatorEndpoint(emulator), apiKey: TEST_KEY });
    dir = mkdtempSync(join(tmpdir(), 'bfl-expand-journal-'));
  });
  afterEach(async () => {
    await client.close();
    await service.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes an expand after a restart with the original pasted back at its place', async () => {
    const image = await gradientPng(256, 256);
    const planned = await planExpand(
      image,
      { sides: { top: 0, bottom: 40, left: 24, right: 0 } },
      {
        pasteBack: true,
        seamFeather: 0,
      },
    );
    const parameters = { ...FILL_PARAMETERS, model: 'flux-pro-1.0-expand' as const, modelFields: planned.sides };
    const journal = new Journal({ dir, apiKey: TEST_KEY });
    const record = journal.begin({ nodeId: 'n1', parameters, timeoutMs: 30_000, msg: {}, geometry: planned.geometry });
    const task = await client.submitFill(parameters, { image: planned.images.image }, signal);
    await record.submitted(task, Date.now());

    // What a restarted process reads back from disk.
    const file = readdirSync(dir).find((name) => name.endsWith('.job.json'))!;
    const entry = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JournalEntry;
    assert.equal(entry.parameters.model, 'flux-pro-1.0-expand');
    const result = await resumeFill(service, await journal.load(entry), 30_000, signal);

    const out = await sharp(result.image).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([out.info.width, out.info.height], [280, 296]);
    const original = await sharp(image).raw().toBuffer();
    const row = (y: number) => out.data.subarray((y * 280 + 24) * 3, (y * 280 + 24 + 256) * 3);
    assert.ok(row(0).equals(original.subarray(0, 256 * 3)));
    assert.ok(row(255).equals(original.subarray(255 * 256 * 3)));
    await record.remove();
  });
});
