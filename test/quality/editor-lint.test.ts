/**
 * The promise rules reach the editor scripts inside nodes/*.html with type information (eslint.config.mjs): a
 * sample editor script with the mistakes they exist for is linted as if it were nodes/<name>.html. If the typed
 * parser or the editor globals (RED, jQuery) stopped applying, these rules would go quiet and this test fails.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..');

const PROBE = `<script type="text/javascript">
(function () {
    fetch("bfl-config/check-key");
    $("#node-input-x").on("click", async function () { await fetch("bfl-config/check-key"); });
    RED.nodes.registerType("bfl-probe", {
        category: "function",
        defaults: { name: { value: "" } },
        oneditprepare: async function () { await fetch("bfl-config/check-key"); },
        oneditsave: function () { void fetch("bfl-config/check-key"); }
    });
})();
</script>
<script type="text/html" data-template-name="bfl-probe"><div class="form-row"></div></script>
`;

describe('lint: editor scripts in nodes/*.html', function () {
  this.timeout(120000);

  it('reports floating and misused promises using the editor types', async function () {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(PROBE, { filePath: join(ROOT, 'nodes', 'bfl-lint-probe.html') });
    const found = result!.messages.map((message) => `${message.line} ${message.ruleId ?? message.message}`);
    assert.deepEqual(found, [
      '3 @typescript-eslint/no-floating-promises', // fetch() nobody awaits
      '4 @typescript-eslint/no-misused-promises', // an async jQuery handler: typed by @types/jquery
      '8 @typescript-eslint/no-misused-promises', // an async oneditprepare: typed by @types/node-red's EditorNodeDef
    ]);
  });
});
