/**
 * Latency and polls: tasks of 10 s ± 10% (the emulator's processing spread), a few to warm up (the package
 * learns from them, as an account does from its first tasks), then the measured ones, started a little apart.
 * Per task: the polls it took, and the detection lag, from BFL's end_time to the moment the client saw Ready.
 * The three clients run at once, each with its own key, against one emulator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENTS, makeClient, type ClientName, type JobRecord } from '../support/clients';
import { startEmulatorProcess } from '../support/emulator-process';
import { boxMaskPng, photoLikePng } from '../support/inputs';
import { mean, median, quantile } from '../support/stats';
import { Traffic } from '../support/traffic';

export interface LatencyFigures {
  pollsPerTask: number;
  lagMeanMs: number;
  lagP90Ms: number;
  failed: number;
}

export interface LatencyPlan {
  processingMs: number;
  spread: number;
  warmup: number;
  measured: number;
  /** Between the starts of two measured tasks. */
  staggerMs: number;
}

export async function latencyRun(plan: LatencyPlan): Promise<Record<ClientName, LatencyFigures>> {
  const emulator = await startEmulatorProcess({ processingMs: plan.processingMs, spread: plan.spread });
  const stateDir = await mkdtemp(join(tmpdir(), 'bfl-bench-latency-'));
  const traffic = new Traffic();
  const input = { image: await photoLikePng(256, 192), mask: await boxMaskPng(256, 192), prompt: 'bench' };
  try {
    const perClient = await Promise.all(
      CLIENTS.map(async (name) => {
        const client = makeClient(name, { ...emulator, key: `bfl_bench_${name}`, stateDir });
        try {
          await Promise.all(Array.from({ length: plan.warmup }, () => client.run(input)));
          const jobs: Promise<JobRecord>[] = [];
          for (let i = 0; i < plan.measured; i += 1) {
            jobs.push(client.run(input));
            await sleep(plan.staggerMs);
          }
          return [name, await Promise.all(jobs)] as const;
        } finally {
          await client.close();
        }
      }),
    );
    const figures = {} as Record<ClientName, LatencyFigures>;
    for (const [name, records] of perClient) {
      const done = records.filter((r) => r.ok && r.taskId !== undefined && r.seenAt !== undefined);
      // Counted before the end times are read: that read is a poll too.
      const polls = done.map((r) => traffic.pollsOf(r.taskId!));
      const lags: number[] = [];
      for (const record of done) {
        const answer = await fetch(`${emulator.clusterUrl}/v1/get_result?id=${record.taskId}`);
        const state = (await answer.json()) as { result: { end_time: number } };
        lags.push(record.seenAt! - state.result.end_time * 1000);
      }
      figures[name] = {
        pollsPerTask: median(polls),
        lagMeanMs: mean(lags),
        lagP90Ms: quantile(lags, 0.9),
        failed: records.length - done.length,
      };
    }
    return figures;
  } finally {
    traffic.close();
    await emulator.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
