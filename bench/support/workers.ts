/** Starting bench/worker.ts in a process of its own and reading the one line of figures it prints. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { WorkerFigures, WorkerPlan } from '../worker';

export async function runWorker(plan: WorkerPlan): Promise<WorkerFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/worker.ts', JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  const line = output.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new Error(`bench worker (${plan.client}, ${plan.mode}) failed: ${code}`);
  return JSON.parse(line) as WorkerFigures;
}
