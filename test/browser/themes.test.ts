/**
 * The nodes in Node-RED's dark theme and its default one, in a real browser: the node on the canvas with its
 * status and preview, the fill dialog and its mask painter, each text legible on what is behind it (WCAG
 * contrast), and screenshots of both (test-artifacts/theme-<dark|light>-*-nr<major>.png).
 *
 * Node-RED 5 has a dark scheme of its own (the "view-dark-theme" setting of the browser); Node-RED 4 has none,
 * so there the dark run uses the "dark" theme of @node-red-contrib-themes/theme-collection (a devDependency,
 * installed beside the package from node_modules, nothing downloaded).
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { repoRoot, startPackedNodeRed, type PackedNodeRed } from '../pack/packed-node-red';
import {
  ARTIFACTS,
  canvasNode,
  deploy,
  EditorSession,
  importFlow,
  newId,
  NODE_RED_MAJOR,
  openDialog,
  showTab,
} from './support';

const THEME_COLLECTION = join(repoRoot, 'node_modules', '@node-red-contrib-themes', 'theme-collection');
const EDITOR_THEME = { tours: false, projects: { enabled: false } };

/**
 * The WCAG contrast of each element's text on the colour behind it (transparent backgrounds see through). Plain
 * JavaScript in a string: the test runner's compiler would wrap named functions in helpers the page lacks.
 */
const CONTRASTS = `(selectors) => {
  function rgba(value) { return (value.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number); }
  function luminance(c) {
    var l = c.slice(0, 3).map(function (v) { var s = v / 255; return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  function behind(element) {
    for (var node = element; node; node = node.parentElement) {
      var colour = rgba(getComputedStyle(node).backgroundColor);
      if ((colour[3] === undefined ? 1 : colour[3]) > 0.5) return colour;
    }
    return [255, 255, 255];
  }
  var result = {};
  selectors.forEach(function (selector) {
    var element = document.querySelector(selector);
    if (!element) return;
    var a = luminance(rgba(getComputedStyle(element).color));
    var b = luminance(behind(element));
    result[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
  return result;
}`;

function contrasts(page: Page, selectors: string[]): Promise<Record<string, number>> {
  return page.evaluate(`(${CONTRASTS})(${JSON.stringify(selectors)})`) as Promise<Record<string, number>>;
}

/** How dark the workspace is: the luminance of its background, 0 (black) to 1 (white). */
function workspaceLuminance(page: Page): Promise<number> {
  return page.evaluate(() => {
    const chart = document.querySelector('rect.red-ui-workspace-chart-background') as Element;
    const colour = getComputedStyle(chart).fill.match(/[\d.]+/g);
    const [r, g, b] = (colour ?? ['255', '255', '255']).map(Number);
    return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
  });
}

for (const theme of NODE_RED_MAJOR >= 5 ? (['light', 'dark'] as const) : (['dark'] as const)) {
  describe(`the nodes in Node-RED ${NODE_RED_MAJOR}'s ${theme} theme (Chromium)`, function () {
    let packed: PackedNodeRed | undefined;
    let session: EditorSession | undefined;
    const pluginTheme = theme === 'dark' && NODE_RED_MAJOR < 5;

    before(async function () {
      this.timeout(300_000);
      packed = await startPackedNodeRed(
        pluginTheme
          ? { alsoInstall: [THEME_COLLECTION], settings: { editorTheme: { ...EDITOR_THEME, theme: 'dark' } } }
          : {},
      );
      session = await EditorSession.start(packed);
    });

    after(async function () {
      this.timeout(60_000);
      await session?.stop();
      await packed?.stop();
    });

    afterEach(async function () {
      const failed = this.currentTest?.state === 'failed' ? this.currentTest.title : undefined;
      if (failed && packed) console.log(`--- Node-RED output ---\n${packed.nodeRed.output()}\n---`);
      await session?.closeWindows(failed);
    });

    it('shows the node, its status and preview, and the dialog with the painter, all legible', async () => {
      const page = await session!.open({ dark: theme === 'dark' && !pluginTheme });
      const luminance = await workspaceLuminance(page);
      if (theme === 'dark') assert.ok(luminance < 0.35, `the workspace is not dark (luminance ${luminance})`);
      else assert.ok(luminance > 0.65, `the workspace is not light (luminance ${luminance})`);

      const picture = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#3060a0' } })
        .png()
        .toBuffer();
      const [tab, fill, config, inject] = [newId(), newId(), newId(), newId()];
      await importFlow(page, [
        { id: tab, type: 'tab', label: `theme ${theme}` },
        {
          id: fill,
          type: 'bfl-fill',
          z: tab,
          config,
          preview: true,
          outputFormat: 'png',
          maskShapes: [{ x: 0.25, y: 0.25, width: 0.5, height: 0.5 }],
          x: 320,
          y: 120,
          wires: [[]],
        },
        { id: config, type: 'bfl-config', name: '', region: 'emulator', baseUrl: '', maxConcurrent: 24 },
        {
          id: inject,
          type: 'inject',
          z: tab,
          x: 130,
          y: 120,
          props: [{ p: 'payload' }],
          payload: picture.toString('base64'),
          payloadType: 'str',
          repeat: '',
          once: false,
          wires: [[fill]],
        },
      ]);
      await showTab(page, tab);
      await deploy(page);
      await canvasNode(page, inject).locator('.red-ui-flow-node-button').click();
      await canvasNode(page, fill).locator('.red-ui-flow-node-status-label', { hasText: 'done' }).waitFor();
      await page.locator(`#bfl-fill-preview-${fill}`).waitFor({ state: 'attached' });
      const status = await contrasts(page, [`g[id="${fill}"] .red-ui-flow-node-status-label`]);
      assert.ok(Object.values(status)[0]! >= 3, `status text contrast ${JSON.stringify(status)}`);
      const node = (await canvasNode(page, fill).boundingBox())!;
      await page.screenshot({
        path: join(ARTIFACTS, `theme-${theme}-node-nr${NODE_RED_MAJOR}.png`),
        clip: { x: node.x - 200, y: node.y - 30, width: 420, height: 200 },
      });

      await openDialog(page, fill);
      const painter = page.locator('#bfl-fill-painter');
      await page.locator('#bfl-fill-painter[data-background="input"]').waitFor();
      await page.locator('#bfl-fill-painter .bfl-painter-pick').first().click();
      await painter.scrollIntoViewIfNeeded();
      const legible = await contrasts(page, [
        '.bfl-fill-section',
        '.bfl-painter-pick',
        '.bfl-painter-status',
        '.bfl-painter-about',
        '#bfl-fill-painter [data-tool="rect"]',
        'label[for="node-input-steps"]',
      ]);
      assert.equal(Object.keys(legible).length, 6, JSON.stringify(legible));
      for (const [selector, ratio] of Object.entries(legible)) {
        assert.ok(ratio >= 4.5, `${selector} has a contrast of ${ratio.toFixed(2)} in the ${theme} theme`);
      }
      await page.screenshot({ path: join(ARTIFACTS, `theme-${theme}-dialog-nr${NODE_RED_MAJOR}.png`) });
      await painter.screenshot({ path: join(ARTIFACTS, `theme-${theme}-painter-nr${NODE_RED_MAJOR}.png`) });
    });

    it('sent no request anywhere but 127.0.0.1 and raised no error in the page', function () {
      assert.deepEqual(session!.offHost, [], 'requests that left 127.0.0.1 (blocked)');
      assert.deepEqual(session!.pageErrors, [], 'errors thrown in the editor page');
    });
  });
}
