/**
 * The in-process emulator of the `emulator` region: started on a free loopback port by the first config node
 * that uses it, shared by every other, stopped when the last one lets go. Its code (servers, sharp work) is
 * loaded only then, so an account of a real region never loads it.
 */
import type { BflEmulator, EmulatorOptions } from '../emulator';

interface SharedEmulator {
  emulator: Promise<BflEmulator>;
  users: number;
}

let shared: SharedEmulator | undefined;

/** The running in-process emulator, if any (tests inspect it). */
export function runningLocalEmulator(): Promise<BflEmulator> | undefined {
  return shared?.emulator;
}

export interface EmulatorLease {
  emulator: Promise<BflEmulator>;
  release: () => Promise<void>;
}

/** A share of the emulator; `options` count only for the first user, which starts it. */
export function leaseEmulator(options: EmulatorOptions | undefined): EmulatorLease {
  if (!shared) {
    const started = Promise.resolve().then(() => {
      // A require at first use rather than an import at the top: the package is CommonJS, and an account of a
      // real region must never load the emulator's servers and image code.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { BflEmulator } = require('../emulator') as typeof import('../emulator');
      return BflEmulator.start({ host: '127.0.0.1', port: 0, ...options });
    });
    shared = { emulator: started, users: 0 };
    // A failed start must not linger as the shared instance for later config nodes.
    started.catch(() => {
      if (shared?.emulator === started) shared = undefined;
    });
  }
  const lease = shared;
  lease.users += 1;
  let released = false;
  return {
    emulator: lease.emulator,
    release: async () => {
      if (released) return;
      released = true;
      lease.users -= 1;
      if (lease.users > 0) return;
      if (shared === lease) shared = undefined;
      const emulator = await lease.emulator.catch(() => undefined);
      await emulator?.close();
    },
  };
}
