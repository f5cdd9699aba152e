/**
 * The emulator in a child process, so its own JSON, base64 and image work never counts against the client
 * measured; its origins are read from the banner it prints. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';

export interface EmulatorProcess {
  apiUrl: string;
  clusterUrl: string;
  deliveryUrl: string;
  stop(): Promise<void>;
}

export interface EmulatorProcessOptions {
  processingMs: number;
  /** ± fraction per task (0.1: ± 10%). */
  spread?: number;
}

export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const args = ['--import', 'tsx', 'bin/bfl-emulator.ts', '--port', '0', '--quiet', '--credits', '100000000'];
  args.push('--processing-ms', String(options.processingMs));
  if (options.spread) args.push('--processing-spread', String(options.spread));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // The emulator stands in for BFL's servers, whose work happens elsewhere: on a small machine its image work
  // must not take the CPU from the client measured. Set before its image threads start, so they inherit it.
  if (child.pid !== undefined) setPriority(child.pid, 19);
  const origins: Record<string, string> = {};
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /^\s+(API|cluster|delivery)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    if (match) origins[match[1]!] = match[2]!;
    if (origins.API && origins.cluster && origins.delivery) break;
  }
  if (!origins.API || !origins.cluster || !origins.delivery) throw new Error('the emulator did not print its origins');
  return {
    apiUrl: origins.API,
    clusterUrl: origins.cluster,
    deliveryUrl: origins.delivery,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
