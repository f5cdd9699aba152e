#!/usr/bin/env node
/**
 * `bfl-emulator`: a local BFL FLUX.1 Fill [pro] API for trying the nodes offline. See `bfl-emulator --help`.
 */
import { runCli } from '../lib/emulator/cli';

export { parseCliArgs, USAGE } from '../lib/emulator/cli';

if (require.main === module) {
  // `bfl-emulator | head` closes the pipe early; losing log lines then is fine, crashing is not.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => {
      // exitCode, not exit(): stdout is flushed and the process ends once the servers are gone.
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bfl-emulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
