/**
 * Throughput: `count` messages at once through one account (cap 24) with tasks of `processingMs`, each client in
 * a process of its own, one after the other. The ideal is ⌈count / 24⌉ × the task time: a client that surfaces a
 * 429 loses those messages; one that submits a message twice may bill it twice.
 */
import type { ClientName } from '../support/clients';
import type { EmulatorProcess } from '../support/emulator-process';
import { runWorker } from '../support/workers';
import type { WorkerFigures } from '../worker';

export interface ThroughputFigures extends WorkerFigures {
  /** Wall time over the ideal. */
  ofIdeal: number;
  /** Submits accepted beyond one per task the messages ended with. */
  duplicates: number;
}

export interface Inputs {
  imagePath: string;
  maskPath: string;
}

export async function throughputRun(
  emulator: EmulatorProcess,
  client: ClientName,
  inputs: Inputs,
  plan: { count: number; processingMs: number; run: number; warmup: number },
): Promise<ThroughputFigures> {
  const figures = await runWorker({
    mode: 'jobs',
    client,
    endpoint: emulator,
    key: `bfl_bench_throughput_${client}_${plan.count}_${plan.run}`,
    ...inputs,
    count: plan.count,
    warmup: plan.warmup,
  });
  const idealMs = Math.ceil(plan.count / 24) * plan.processingMs;
  return {
    ...figures,
    ofIdeal: figures.wallMs / idealMs,
    duplicates: figures.acceptedSubmits - figures.distinctTasks,
  };
}
