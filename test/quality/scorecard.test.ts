/**
 * scripts/scorecard.mjs: the Flow Library scorecard (node-red-dev validate), offline, on the built package, and on
 * a broken copy to show that each check can fail. `npm test` builds dist/ before mocha runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'scorecard.mjs');

interface Check {
  code: string;
  title: string;
  ok: boolean;
  detail: string;
}

function scorecard(root: string): { status: number | null; checks: Check[] } {
  const run = spawnSync(process.execPath, [SCRIPT, '--root', root, '--json'], { encoding: 'utf8' });
  assert.equal(run.stderr, '', run.stderr);
  return { status: run.status, checks: JSON.parse(run.stdout) as Check[] };
}

describe('Flow Library scorecard (offline)', function () {
  let broken: string;

  before(function () {
    broken = mkdtempSync(join(tmpdir(), 'bfl-scorecard-'));
  });

  after(function () {
    rmSync(broken, { recursive: true, force: true });
  });

  it('passes every check on this package as built', function () {
    const { status, checks } = scorecard(ROOT);
    const failed = checks.filter((check) => !check.ok);
    assert.deepEqual(failed, [], 'failed checks');
    assert.deepEqual(
      checks.map((check) => check.code),
      ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'N01', 'N02', 'D01'],
    );
    assert.equal(status, 0);
    const n02 = checks.find((check) => check.code === 'N02')!;
    assert.match(n02.detail, /bfl-fill/, 'the example check did not see the bfl-fill type in dist/nodes/bfl-fill.html');
  });

  it('fails each check on a package that breaks it', function () {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(broken, 'package.json'),
      JSON.stringify({
        ...pkg,
        name: 'node-red-contrib-bfl',
        license: undefined,
        repository: undefined,
        bugs: undefined,
        keywords: ['bfl'],
        engines: { node: '>=24' },
        'node-red': { version: '^4.0.0', nodes: { fill: 'dist/fill.js', account: 'dist/account.js' } },
        dependencies: Object.fromEntries(['node-red', 'a', 'b', 'c', 'd', 'e', 'f'].map((name) => [name, '*'])),
      }),
    );
    mkdirSync(join(broken, 'dist'));
    const editor = (type: string, category: string) =>
      `<script type="text/javascript">\n(function () {\n  RED.nodes.registerType('${type}', { category: '${category}' });\n})();\n</script>\n`;
    writeFileSync(join(broken, 'dist', 'fill.html'), editor('fill', 'function'));
    writeFileSync(join(broken, 'dist', 'account.html'), editor('bfl-account', 'config'));
    mkdirSync(join(broken, 'examples', 'assets'), { recursive: true });
    writeFileSync(join(broken, 'examples', 'flow.json'), JSON.stringify([{ id: '1', type: 'bfl-account' }]));
    cpSync(join(ROOT, 'assets', 'sample-small.png'), join(broken, 'examples', 'assets', 'sample-small.png'));

    const { status, checks } = scorecard(broken);
    assert.equal(status, 1);
    const failures = Object.fromEntries(checks.filter((check) => !check.ok).map((check) => [check.code, check.detail]));
    assert.match(failures.P01 ?? '', /no license.*no LICENSE file/);
    assert.match(failures.P03 ?? '', /neither repository nor bugs/);
    assert.match(failures.P04 ?? '', /node-red-contrib-bfl" is not scoped/);
    assert.match(failures.P05 ?? '', /keywords lack "node-red"/);
    assert.match(failures.P06 ?? '', /Node-RED 5\.0\.7 \(latest\) is outside "\^4\.0\.0"/);
    assert.match(failures.P07 ?? '', /Node\.js 22\.9\.0 is outside ">=24".*Node\.js 20\.18\.1/);
    assert.match(failures.N01 ?? '', /without the bfl- prefix: fill$/);
    assert.match(failures.N02 ?? '', /examples\/assets\/sample-small\.png is not a JSON flow; no example uses fill$/);
    assert.match(failures.D01 ?? '', /7 dependencies.*node-red is a runtime dependency/);
  });
});
