#!/usr/bin/env node
/**
 * `npm start`: Node-RED with this package installed, in the foreground on http://127.0.0.1:1880 (or PORT),
 * until Ctrl-C.
 *
 * The user dir is .node-red-dev/ in the repository (git ignores it), so flows, settings and any key typed into
 * a config node survive a restart, as in a real Node-RED. On the first start (or with `npm start -- --fresh`,
 * which replaces the flows) it is seeded with the first example flow in examples/ ("01 ..."), or with the
 * demo flow when there is none. Every example is also in the editor under Import > Examples.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { demoFlow, extensionFor } from './lib/demo-flow.mjs';
import { linkPackage, loadedNodeSets, nodeRedVersion, packageJson, repoRoot, startNodeRed } from './lib/node-red.mjs';

const USER_DIR = join(repoRoot, '.node-red-dev');
const FLOW_FILE = 'flows.json';
const fresh = process.argv.slice(2).includes('--fresh');

function parsePort(text) {
  if (text === undefined || text === '') return 1880;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number (got "${text}")`);
  return port;
}

/**
 * Example files are written for Import, where the editor puts nodes that name no tab (`z`) on the current one.
 * A flow file is read by the runtime directly, so give such nodes a tab of their own, as Import would.
 */
function onATab(nodes, label) {
  if (nodes.some((node) => node.type === 'tab') || !nodes.some((node) => 'x' in node && !node.z)) return nodes;
  const tab = { id: 'b1f1c0de0000ab00', type: 'tab', label, disabled: false, info: '' };
  return [tab, ...nodes.map((node) => ('x' in node && !node.z ? { ...node, z: tab.id } : node))];
}

/** The flow to start with: the first example (by name) or, without examples, the demo flow. */
function seedFlow() {
  const examplesDir = join(repoRoot, 'examples');
  const examples = existsSync(examplesDir)
    ? readdirSync(examplesDir)
        .filter((name) => name.endsWith('.json'))
        .sort()
    : [];
  if (examples.length > 0) {
    const file = join(examplesDir, examples[0]);
    return {
      flows: onATab(JSON.parse(readFileSync(file, 'utf8')), examples[0].replace(/\.json$/, '')),
      from: relative(repoRoot, file),
    };
  }
  const flows = demoFlow({
    imagePath: join(repoRoot, 'assets', 'sample.jpg'),
    maskPath: join(repoRoot, 'assets', 'sample-mask.png'),
    outputPath: join(repoRoot, 'demo-output', `result.${extensionFor('jpeg')}`),
    prompt: 'calm lake water reflecting the sunset sky',
    region: 'emulator',
    trigger: 'inject',
  });
  return { flows, from: 'the demo flow (scripts/lib/demo-flow.mjs)' };
}

let nodeRed;
let link;
/** Stops Node-RED and removes the package link (it points back into the repository, a loop for tree walkers). */
async function shutdown() {
  await nodeRed?.stop();
  if (link) rmSync(link, { force: true });
}

let stopping;
function stop(signal) {
  if (stopping) {
    process.stderr.write(`${signal} again: exiting now\n`);
    process.exit(130);
  }
  process.stdout.write(`\n${signal}: stopping Node-RED...\n`);
  stopping = shutdown().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`stopping failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  const port = parsePort(process.env.PORT);
  if (!existsSync(join(repoRoot, 'dist', 'nodes', 'bfl-fill.js'))) {
    throw new Error('dist/ is missing: run npm run build (npm start does it for you)');
  }
  mkdirSync(USER_DIR, { recursive: true });
  link = linkPackage(USER_DIR);
  const flowFile = join(USER_DIR, FLOW_FILE);
  let flowNote = `${relative(repoRoot, flowFile)} (kept from the last run; npm start -- --fresh starts over)`;
  if (fresh || !existsSync(flowFile)) {
    const seed = seedFlow();
    writeFileSync(flowFile, `${JSON.stringify(seed.flows, null, 4)}\n`);
    flowNote = `${relative(repoRoot, flowFile)}, from ${seed.from}`;
  }

  process.stdout.write(`Starting Node-RED ${nodeRedVersion()} with ${packageJson.name} ${packageJson.version}...\n`);
  nodeRed = await startNodeRed({
    userDir: USER_DIR,
    port,
    settings: {
      flowFile: FLOW_FILE,
      flowFilePretty: true,
      // A dev editor: the palette manager may install other nodes into .node-red-dev/ when asked to.
      externalModules: { autoInstall: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    },
  });
  for (const set of await loadedNodeSets(nodeRed.RED)) {
    if (set.err) process.stderr.write(`warning: Node-RED could not load ${set.id}: ${set.err}\n`);
  }
  if (!stopping) {
    process.stdout.write(
      [
        '',
        `  Node-RED editor:  ${nodeRed.url}/`,
        `  flows:            ${flowNote}`,
        `  examples:         Import > Examples > ${packageJson.name}`,
        '',
        '  Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }
} catch (error) {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await shutdown();
  process.exitCode = 1;
}
