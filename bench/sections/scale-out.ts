/**
 * Beyond one Node-RED: three processes share one key (the emulator allows it 24 active tasks) and know nothing of
 * each other; each runs its own account with the default cap of 24 and `perProcess` messages at once, all three
 * starting together. BFL's 429 is their only coordination. The ideal is ⌈3 × perProcess / 24⌉ × task time.
 */
import { startEmulatorProcess } from '../support/emulator-process';
import { runWorker } from '../support/workers';
import type { Inputs } from './throughput';

export interface ScaleOutFigures {
  wallMs: number;
  ofIdeal: number;
  ok: number;
  messages: number;
  rateLimited: number;
  duplicates: number;
  errors: string[];
}

const PROCESSES = 3;

export async function scaleOutRun(
  inputs: Inputs,
  plan: { perProcess: number; processingMs: number; run: number },
): Promise<ScaleOutFigures> {
  const emulator = await startEmulatorProcess({ processingMs: plan.processingMs });
  try {
    const key = `bfl_bench_scale_${plan.run}`;
    // Far enough ahead for every process to have loaded its modules.
    const startAt = Date.now() + 4_000;
    const shares = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        runWorker({
          mode: 'jobs',
          client: 'package',
          endpoint: emulator,
          key,
          ...inputs,
          count: plan.perProcess,
          startAt,
        }),
      ),
    );
    const messages = PROCESSES * plan.perProcess;
    const wallMs = Math.max(...shares.map((s) => s.wallMs));
    return {
      wallMs,
      ofIdeal: wallMs / (Math.ceil(messages / 24) * plan.processingMs),
      ok: shares.reduce((sum, s) => sum + s.ok, 0),
      messages,
      rateLimited: shares.reduce((sum, s) => sum + s.rateLimited, 0),
      duplicates: shares.reduce((sum, s) => sum + s.acceptedSubmits - s.distinctTasks, 0),
      errors: [...new Set(shares.flatMap((s) => s.errors))],
    };
  } finally {
    await emulator.stop();
  }
}
