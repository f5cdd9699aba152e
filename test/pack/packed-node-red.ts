/**
 * The package as a user installs it, in a real Node-RED: build, `npm pack` the repository, `npm install` the
 * tarball into a fresh Node-RED user dir in a temp folder, and start red.js (a child process) on 127.0.0.1 with
 * a free port. Shared by the packed-package test (test/pack) and the editor tests in a browser (test/browser).
 *
 * Which Node-RED and which Node.js run it (the compatibility runs, scripts/compat.mjs, set these):
 * - PACK_TEST_NODE_RED=/path/to/node-red/red.js (default: the repository's devDependency)
 * - PACK_TEST_NODE=/path/to/node (default: the Node.js running the tests); it also runs the npm that installs
 *   the tarball, as it would for a user on that Node.js
 * PACK_TEST_KEEP=1 keeps the temp dir for a post-mortem.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, httpRequest, startNodeRedProcess, type HttpAnswer, type NodeRedProcess } from './node-red-process';

export const repoRoot = resolve(__dirname, '..', '..');
export const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
export const PACKAGE = manifest.name;

/** The red.js and the node binary to run it with, from PACK_TEST_NODE_RED and PACK_TEST_NODE. */
export const redJs = resolve(process.env.PACK_TEST_NODE_RED ?? join(repoRoot, 'node_modules', 'node-red', 'red.js'));
export const nodeBinary = resolve(process.env.PACK_TEST_NODE ?? process.execPath);

/** The version in the package.json beside `redJs`: what Node-RED should report it is. */
export function nodeRedPackageVersion(): string {
  return (JSON.parse(readFileSync(join(dirname(redJs), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Environment for the child processes: none of npm's per-run variables (they name this repo) and no real key. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$|BFL_API_KEY$)/.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${[command, ...args].join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        } else {
          resolvePromise(stdout);
        }
      },
    );
  });
}

/** The npm that runs this test (npm run test:...), else the one on PATH; run by `node` when given. */
export function npm(args: string[], cwd: string, timeoutMs: number, node: string = process.execPath): Promise<string> {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.[cm]?js$/.test(cli)
    ? run(node, [cli, ...args], cwd, timeoutMs)
    : run('npm', args, cwd, timeoutMs);
}

export type Api = (path: string, options?: Parameters<typeof httpRequest>[1]) => Promise<HttpAnswer>;

export interface PackedNodeRed {
  /** The temp folder: the tarball, settings.js and userdir/. */
  work: string;
  userDir: string;
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  packedFiles: string[];
  nodeRed: NodeRedProcess;
  /** A request to the admin API of this Node-RED (http-in endpoints are at the root too). */
  api: Api;
  /** Stops Node-RED and removes the temp folder (unless PACK_TEST_KEEP is set). */
  stop(): Promise<void>;
}

/**
 * Builds, packs and installs the package into a fresh user dir and starts Node-RED with it. `settings` are
 * merged over safe defaults (127.0.0.1, a free port, no telemetry, no module installs, no tours, flows in
 * flows.json with a random credentialSecret); `alsoInstall` names local package folders installed beside it.
 * Cleans up after itself if any step fails.
 */
export async function startPackedNodeRed(
  options: { settings?: Record<string, unknown>; alsoInstall?: string[] } = {},
): Promise<PackedNodeRed> {
  assert.ok(existsSync(redJs), `no Node-RED at ${redJs} (PACK_TEST_NODE_RED)`);
  assert.ok(existsSync(nodeBinary), `no node binary at ${nodeBinary} (PACK_TEST_NODE)`);
  const work = await mkdtemp(join(tmpdir(), 'bfl-pack-test-'));
  let nodeRed: NodeRedProcess | undefined;
  const stop = async () => {
    await nodeRed?.stop();
    if (!process.env.PACK_TEST_KEEP) await rm(work, { recursive: true, force: true });
  };
  try {
    await run(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], repoRoot, 120_000);

    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], repoRoot, 120_000)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const tarball = join(work, packed[0]!.filename);
    const packedFiles = packed[0]!.files.map((file) => file.path);

    const userDir = join(work, 'userdir');
    await mkdir(userDir);
    await writeFile(
      join(userDir, 'package.json'),
      JSON.stringify({ name: 'node-red-project', description: 'pack test', version: '0.0.1', private: true }),
    );
    // npm install fetches undici and sharp from the registry.
    await npm(['install', '--no-audit', '--no-fund', tarball], userDir, 240_000, nodeBinary);
    // Other packages from local folders, e.g. a theme for the editor tests (linked, nothing downloaded).
    for (const folder of options.alsoInstall ?? []) {
      await npm(['install', '--no-audit', '--no-fund', '--no-save', folder], userDir, 120_000, nodeBinary);
    }

    const port = await freePort();
    const settingsFile = join(work, 'settings.js');
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: randomBytes(16).toString('hex'),
      logging: { console: { level: 'info', metrics: false, audit: false } },
      telemetry: { enabled: false, updateNotification: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
      functionExternalModules: false,
      editorTheme: { tours: false, projects: { enabled: false } },
      ...options.settings,
    };
    await writeFile(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    nodeRed = await startNodeRedProcess({
      redJs,
      node: nodeBinary,
      userDir,
      settingsFile,
      port,
      env: childEnv(),
      timeoutMs: 60_000,
    });
    const base = nodeRed.url;
    return {
      work,
      userDir,
      packedFiles,
      nodeRed,
      api: (path, requestOptions) => httpRequest(`${base}${path}`, requestOptions),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
