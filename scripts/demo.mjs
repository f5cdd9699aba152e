#!/usr/bin/env node
/**
 * `npm run demo`: a headless Node-RED with this package installed runs a flow that inpaints the bundled sample
 * picture (assets/sample.jpg + sample-mask.png) and writes the result to demo-output/result.jpg.
 *
 * Backend: the built-in emulator (offline, nothing billed), or the real BFL API when BFL_API_KEY is set
 * (region `global`, or BFL_REGION=eu|us; BFL_REGION=custom with BFL_BASE_URL=<url> for another endpoint, such
 * as a standalone `npx bfl-emulator`). The key is deployed as the config node's credential through the
 * runtime API and kept in memory only: it is never written to a file or printed.
 *
 * Exit code 0 when the result was written; 1 with the error code and message otherwise.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { demoFlow, extensionFor } from './lib/demo-flow.mjs';
import {
  linkPackage,
  loadedNodeSets,
  memoryStorage,
  nodeRedVersion,
  packageJson,
  redactingLogger,
  repoRoot,
  request,
  startNodeRed,
} from './lib/node-red.mjs';

const started = performance.now();
const seconds = (from, to = performance.now()) => `${((to - from) / 1000).toFixed(1)} s`;

const IMAGE = join(repoRoot, 'assets', 'sample.jpg');
const MASK = join(repoRoot, 'assets', 'sample-mask.png');
const PROMPT = 'calm lake water reflecting the sunset sky';
const OUTPUT_FORMAT = 'jpeg';
const OUTPUT = join(repoRoot, 'demo-output', `result.${extensionFor(OUTPUT_FORMAT)}`);
const ENDPOINT = '/bfl-demo';

const apiKey = (process.env.BFL_API_KEY ?? '').trim();
const region = apiKey ? (process.env.BFL_REGION ?? '').trim() || 'global' : 'emulator';
const baseUrl = region === 'custom' ? (process.env.BFL_BASE_URL ?? '').trim() : '';
// The emulator answers in about a second; the real API gets the node's default job timeout.
const jobTimeoutSeconds = apiKey ? 300 : 60;

/** Anything printed goes through this, so the key cannot reach the terminal even inside a quoted error. */
const redact = (text) => (apiKey ? String(text).split(apiKey).join('[BFL_API_KEY]') : String(text));
const say = (line = '') => process.stdout.write(`${redact(line)}\n`);
const complain = (line) => process.stderr.write(`${redact(line)}\n`);
const shown = (path) => relative(process.cwd(), path) || path;

let nodeRed;
let userDir;
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    await nodeRed?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  })();
  return cleaning;
}

process.once('SIGINT', () => {
  complain('interrupted: stopping Node-RED');
  cleanup().finally(() => process.exit(130));
});

async function main() {
  if (apiKey && !['global', 'eu', 'us', 'custom'].includes(region)) {
    throw new Error(`BFL_REGION must be global, eu, us or custom (got "${region}")`);
  }
  if (region === 'custom' && !/^https?:\/\//.test(baseUrl)) {
    throw new Error('BFL_REGION=custom needs BFL_BASE_URL, e.g. http://127.0.0.1:41800');
  }
  for (const asset of [IMAGE, MASK]) {
    if (!existsSync(asset)) throw new Error(`${shown(asset)} is missing: run node scripts/make-sample.mjs`);
  }
  if (!existsSync(join(repoRoot, 'dist', 'nodes', 'bfl-fill.js'))) {
    throw new Error('dist/ is missing: run npm run build (npm run demo does it for you)');
  }

  say(`BFL fill demo: ${packageJson.name} ${packageJson.version}`);
  say(
    region === 'emulator'
      ? '  backend  emulator (in-process on 127.0.0.1, offline: nothing is billed; set BFL_API_KEY for the real API)'
      : region === 'custom'
        ? `  backend  ${baseUrl} (region custom, the key from BFL_API_KEY)`
        : `  backend  real BFL API, region ${region} (the key from BFL_API_KEY; this costs credits)`,
  );
  say(`  input    ${shown(IMAGE)} + ${shown(MASK)}`);
  say(`  prompt   ${PROMPT}`);

  userDir = mkdtempSync(join(tmpdir(), 'bfl-demo-'));
  linkPackage(userDir);
  const nodeRedStarted = performance.now();
  const credentialSecret = randomBytes(24).toString('hex');
  nodeRed = await startNodeRed({
    userDir,
    settings: {
      storageModule: memoryStorage({ credentialSecret }),
      credentialSecret,
      disableEditor: true,
      logging: {
        demo: redactingLogger({ level: 'warn', redact, print: (line) => complain(`  node-red ${line}`) }),
      },
    },
  });
  for (const set of await loadedNodeSets(nodeRed.RED)) {
    if (set.err) throw new Error(`Node-RED could not load ${set.id}: ${set.err}`);
  }
  await nodeRed.deploy(
    demoFlow({
      imagePath: IMAGE,
      maskPath: MASK,
      outputPath: OUTPUT,
      prompt: PROMPT,
      region,
      baseUrl,
      apiKey: apiKey || undefined,
      outputFormat: OUTPUT_FORMAT,
      timeoutSeconds: jobTimeoutSeconds,
      trigger: 'http',
      endpoint: ENDPOINT,
    }),
  );
  say(`Node-RED ${nodeRedVersion()} ready on ${nodeRed.url} in ${seconds(nodeRedStarted)}; running the flow...`);

  rmSync(OUTPUT, { force: true });
  const flowStarted = performance.now();
  const answer = await request(`${nodeRed.url}${ENDPOINT}`, {
    method: 'POST',
    timeoutMs: (jobTimeoutSeconds + 30) * 1000,
  });
  const flowTime = seconds(flowStarted);
  let body;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new Error(`the flow answered HTTP ${answer.status} with something that is not JSON`);
  }
  if (answer.status !== 200) {
    complain(`Failed after ${flowTime}`);
    complain(`  error    ${body.code ?? '(no code)'}: ${body.message ?? '(no message)'}`);
    if (body.source) complain(`  node     ${body.source}`);
    return 1;
  }

  const meta = await sharp(OUTPUT).metadata();
  const bytes = statSync(OUTPUT).size;
  say(`Done in ${flowTime}`);
  say(`  output   ${shown(OUTPUT)}`);
  say(`  image    ${meta.width}x${meta.height} ${meta.format}, ${bytes.toLocaleString('en-US')} bytes`);
  const entries = Object.entries(body ?? {});
  entries.forEach(([name, value], index) => {
    const text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    say(`  ${index === 0 ? 'msg.bfl ' : '        '} ${name.padEnd(9)} ${text}`);
  });
  if (entries.length === 0) say('  msg.bfl  (empty)');
  say(
    `  elapsed  ${seconds(started)} in all (Node-RED start ${seconds(nodeRedStarted, flowStarted)}, flow ${flowTime})`,
  );
  return 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  complain(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exitCode = exitCode;
// Everything is closed by now; should a stray handle keep the process alive, do not hang.
setTimeout(() => {
  complain('warning: something kept the process alive after Node-RED stopped; exiting');
  process.exit(exitCode);
}, 5_000).unref();
