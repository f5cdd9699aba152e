#!/usr/bin/env node
/**
 * `npm run scorecard`: the Flow Library scorecard (the checks of `node-red-dev validate`),
 * checked offline. It runs on the package as built: `npm run scorecard` builds first; the mocha test
 * (test/quality/scorecard.test.ts) runs it on the dist/ that `npm test` has just built.
 *
 *   node scripts/scorecard.mjs [--root <package dir>] [--json]
 *
 * Prints one line per check and exits 1 when one fails; --json prints the results as JSON instead.
 *
 * The checks follow node-red-dev's codes. Those that need the network are approximated:
 *   P06/P07  the Node-RED and Node.js releases are pinned below, as they were when the guide was written;
 *   N01      "no other package in the Flow Library uses the type" becomes "every type carries our bfl- prefix".
 * Not checked: P08 and D03 (need the npm registry), D02 (known-bad packages in the dependency tree).
 * Node types are read the way node-red-dev reads them: from the `type="text/javascript"` script blocks of the .html
 * beside each JS file in package.json's node-red.nodes, with acorn, as RED.nodes.registerType('<literal>', {...}).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Node-RED on npm when checked: `latest` and the 4.x maintenance line (guide §5.1). */
export const NODE_RED_RELEASES = { latest: '5.0.7', maintenance: '4.1.15' };
/** The oldest Node.js Node-RED `latest` supports (P07), and the oldest this package is tested on. */
export const NODE_FOR_NODE_RED_LATEST = '22.9.0';
export const NODE_FLOOR = '20.18.1';
export const TYPE_PREFIX = 'bfl-';
export const MAX_DEPENDENCIES = 6;

/** semver, acorn and acorn-walk come from the repository's devDependencies. */
function load(name) {
  try {
    return require(name);
  } catch (error) {
    throw new Error(`scorecard: cannot load ${name} (run npm install): ${error.message}`, { cause: error });
  }
}

/**
 * The node types an editor .html registers, as node-red-dev reads them (src/libs/checknodes.js): the script blocks
 * with an explicit type="text/javascript", parsed with acorn, every RED.nodes.registerType('<literal>', {...}).
 * @returns {{ types: Record<string, { category?: string }>, problems: string[] }}
 */
export function nodeDefinitions(htmlFile) {
  const acorn = load('acorn');
  const walk = load('acorn-walk');
  const html = readFileSync(htmlFile, 'utf8');
  const types = {};
  const problems = [];
  const blocks = [...html.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi)];
  if (blocks.length === 0) problems.push('no <script type="text/javascript"> block');
  for (const [, code] of blocks) {
    let program;
    try {
      program = acorn.parse(code, { ecmaVersion: 'latest' });
    } catch (error) {
      problems.push(`the script does not parse: ${error.message}`);
      continue;
    }
    walk.simple(program, {
      CallExpression(node) {
        if (node.callee.type !== 'MemberExpression' || node.callee.property.name !== 'registerType') return;
        const [type, definition] = node.arguments;
        if (type?.type !== 'Literal' || typeof type.value !== 'string') {
          problems.push('registerType is called with a type that is not a string literal');
        } else if (definition?.type !== 'ObjectExpression') {
          problems.push(`registerType('${type.value}', ...) is not given an inline object literal`);
        } else {
          const category = definition.properties.find(
            (p) => p.type === 'Property' && (p.key.name ?? p.key.value) === 'category',
          );
          if (category && category.value.type !== 'Literal') problems.push(`${type.value}: category is not a literal`);
          types[type.value] = { category: category?.value.value };
        }
      },
    });
  }
  if (blocks.length > 0 && Object.keys(types).length === 0) problems.push('no RED.nodes.registerType found');
  return { types, problems };
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Runs every check on the package in `root`.
 * @returns {{ code: string, title: string, ok: boolean, detail: string }[]}
 */
export function scorecard(root) {
  const semver = load('semver');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const results = [];
  const check = (code, title, problems, detail) =>
    results.push({ code, title, ok: problems.length === 0, detail: problems.length ? problems.join('; ') : detail });

  // P01: a license key (node-red-dev), and the license text it names.
  {
    const problems = [];
    if (typeof pkg.license !== 'string' || pkg.license.trim() === '') problems.push('package.json has no license');
    const licenseFile = readdirSync(root).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
    if (!licenseFile) problems.push('no LICENSE file');
    check('P01', 'License', problems, `${pkg.license}, ${licenseFile}`);
  }

  // P03: repository or bugs.
  {
    const url = (field) => (typeof field === 'string' ? field : (field?.url ?? field?.email ?? ''));
    const found = url(pkg.repository) || url(pkg.bugs);
    check('P03', 'Repository or bugs', found ? [] : ['neither repository nor bugs in package.json'], found);
  }

  // P04: scoped name (required for packages first published after January 2022).
  check(
    'P04',
    'Scoped package name',
    /^@[a-z0-9][\w.-]*\/[\w.-]+$/.test(pkg.name ?? '') ? [] : [`"${pkg.name}" is not scoped`],
    pkg.name,
  );

  // P05: the node-red keyword, without which the Flow Library does not list the package.
  check(
    'P05',
    'node-red keyword',
    Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red') ? [] : ['keywords lack "node-red"'],
    'present',
  );

  // P06: node-red.version, satisfied by Node-RED latest (and here also by the 4.x maintenance line we support).
  {
    const range = pkg['node-red']?.version;
    const problems = [];
    if (typeof range !== 'string' || !semver.validRange(range)) {
      problems.push(`node-red.version ${JSON.stringify(range)} is not a semver range`);
    } else {
      for (const [tag, version] of Object.entries(NODE_RED_RELEASES)) {
        if (!semver.satisfies(version, range)) problems.push(`Node-RED ${version} (${tag}) is outside "${range}"`);
      }
    }
    const releases = Object.values(NODE_RED_RELEASES).join(' and ');
    check('P06', 'Minimum Node-RED version', problems, `"${range}" admits Node-RED ${releases}`);
  }

  // P07: engines.node, satisfied by the oldest Node.js of Node-RED latest, and by our own floor.
  {
    const range = pkg.engines?.node;
    const problems = [];
    if (typeof range !== 'string' || !semver.validRange(range)) {
      problems.push(`engines.node ${JSON.stringify(range)} is not a semver range`);
    } else {
      for (const version of [NODE_FOR_NODE_RED_LATEST, NODE_FLOOR]) {
        if (!semver.satisfies(version, range)) problems.push(`Node.js ${version} is outside "${range}"`);
      }
    }
    check(
      'P07',
      'Minimum Node.js version',
      problems,
      `"${range}" admits ${NODE_FOR_NODE_RED_LATEST} and ${NODE_FLOOR}`,
    );
  }

  // The node types, from the .html beside each JS file that package.json lists.
  const types = {};
  {
    const problems = [];
    const files = Object.values(pkg['node-red']?.nodes ?? {});
    if (files.length === 0) problems.push('package.json lists no node-red.nodes');
    for (const file of files) {
      const html = join(root, String(file).replace(/\.js$/, '.html'));
      if (!existsSync(html)) {
        problems.push(`${relative(root, html)} is missing (run npm run build)`);
        continue;
      }
      const found = nodeDefinitions(html);
      problems.push(...found.problems.map((problem) => `${relative(root, html)}: ${problem}`));
      Object.assign(types, found.types);
    }
    // N01 offline: node-red-dev compares the types with the Flow Library catalogue; a prefix of our own is the
    // part we control.
    const unprefixed = Object.keys(types).filter((type) => !type.startsWith(TYPE_PREFIX));
    if (unprefixed.length) problems.push(`without the ${TYPE_PREFIX} prefix: ${unprefixed.join(', ')}`);
    check('N01', 'Node type names', problems, Object.keys(types).join(', '));
  }

  // N02: example flows for every non-config node. node-red-dev and the Flow Library read examples/**/*.json and
  // Node-RED lists the folder in Import > Examples as it is, so only JSON flows belong there.
  {
    const problems = [];
    const examplesDir = join(root, 'examples');
    const files = existsSync(examplesDir) ? filesUnder(examplesDir) : [];
    const used = new Set();
    for (const file of files) {
      const name = relative(root, file);
      if (!file.endsWith('.json')) {
        problems.push(`${name} is not a JSON flow`);
        continue;
      }
      let flow;
      try {
        flow = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        problems.push(`${name} does not parse: ${error.message}`);
        continue;
      }
      if (!Array.isArray(flow)) {
        problems.push(`${name} is not an array of nodes`);
        continue;
      }
      for (const node of flow) used.add(node?.type);
    }
    const flows = files.filter((file) => file.endsWith('.json'));
    if (flows.length === 0) problems.push('no examples/**/*.json');
    const needed = Object.entries(types)
      .filter(([, definition]) => definition.category !== 'config')
      .map(([type]) => type);
    const missing = needed.filter((type) => !used.has(type));
    if (flows.length && missing.length) problems.push(`no example uses ${missing.join(', ')}`);
    check('N02', 'Examples', problems, `${flows.length} flows; ${needed.join(', ')} in at least one`);
  }

  // D01: at most 6 runtime dependencies, and node-red never one of them.
  {
    const dependencies = Object.keys(pkg.dependencies ?? {});
    const problems = [];
    if (dependencies.length > MAX_DEPENDENCIES) {
      problems.push(`${dependencies.length} dependencies (at most ${MAX_DEPENDENCIES})`);
    }
    if (dependencies.includes('node-red')) problems.push('node-red is a runtime dependency (devDependencies only)');
    check('D01', 'Dependencies', problems, `${dependencies.length}: ${dependencies.join(', ')}`);
  }

  return results;
}

function main(argv) {
  const rootAt = argv.indexOf('--root');
  const root =
    rootAt === -1 ? resolve(dirname(fileURLToPath(import.meta.url)), '..') : resolve(argv[rootAt + 1] ?? '.');
  const results = scorecard(root);
  if (argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(`Flow Library scorecard, offline (${relative(process.cwd(), root) || '.'}):`);
    for (const { code, title, ok, detail } of results)
      console.log(`  ${ok ? 'pass' : 'FAIL'}  ${code} ${title}: ${detail}`);
    const failed = results.filter((result) => !result.ok).length;
    console.log(failed ? `${failed} of ${results.length} checks failed` : `all ${results.length} checks pass`);
  }
  if (results.some((result) => !result.ok)) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
