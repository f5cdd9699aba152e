/**
 * The editor as a user sees it: Debian's Chromium (driven by playwright-core, never a downloaded browser) opens
 * the Node-RED editor of a real Node-RED that has the PACKED package installed (test/pack/packed-node-red.ts:
 * npm pack, npm install into a fresh user dir, red.js on 127.0.0.1). Every request the page makes is checked to
 * stay on 127.0.0.1. Screenshots of the dialogs and the help go to test-artifacts/ (and of the page when a test
 * fails).
 *
 * BROWSER_TEST_CHROMIUM=/path/to/chromium overrides /usr/bin/chromium (apt-get install chromium).
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CONFIG_FIELDS, EXPAND_FIELDS, FILL_FIELDS } from '../../lib/fields';
import { PACKAGE, startPackedNodeRed, type PackedNodeRed } from '../pack/packed-node-red';
import {
  ARTIFACTS,
  CHROMIUM,
  canvasNode,
  editorLoaded,
  importFlow,
  newId,
  openDialog,
  showSidebar,
  showTab,
  squash as text,
} from './support';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const API_KEY = 'bfl_test_secret_key_123';
/** How long one step (a click, an element to appear) may take before the test fails. */
const STEP_TIMEOUT_MS = 15_000;

/** The names of the editor page's globals that the tests read; the page, not these tests, defines them. */
interface EditorNode {
  id: string;
  type: string;
  valid?: boolean;
}
interface EditorWindow {
  RED?: {
    workspaces?: { active(): string | undefined };
    nodes: {
      getType(type: string): unknown;
      filterNodes(filter: { type?: string; z?: string }): EditorNode[];
    };
  };
  document: { querySelector(selector: string): unknown };
}

type Catalog = Record<string, Record<string, unknown>>;

describe('the editor in a real browser (Chromium) with the packed package', function () {
  let packed: PackedNodeRed | undefined;
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  const offHost: string[] = [];
  const pageErrors: string[] = [];

  /** A message catalog of the INSTALLED package (what the editor is served), e.g. ('de', 'bfl-fill'). */
  const catalog = (lang: string, type: string): Record<string, unknown> => {
    const file = join(packed!.userDir, 'node_modules', PACKAGE, 'dist', 'nodes', 'locales', lang, `${type}.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as Catalog)[type]!;
  };
  /** The labels of a node's fields: the engine's (lib/messages, merged into the bfl-fill catalog). */
  const labels = (lang: string, fields: Record<string, unknown>): Record<string, string> => {
    const all = (catalog(lang, 'bfl-fill').messages as { field: { label: Record<string, string> } }).field.label;
    // maskShapes has no input of its own: it is drawn in the mask painter (test/browser/painter.test.ts).
    const named = Object.keys(fields).filter((name) => name !== 'maskShapes');
    return Object.fromEntries(named.map((name) => [name, all[name]!]));
  };
  const entry = (lang: string, type: string, path: string): string => {
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], catalog(lang, type));
    assert.equal(typeof value, 'string', `${lang}/${type}.json has no string at ${path}`);
    return value as string;
  };

  before(async function () {
    // npm install fetches undici and sharp from the registry; Chromium's first start is slow.
    this.timeout(300_000);
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: apt-get install chromium (or set BROWSER_TEST_CHROMIUM)`,
    );
    await mkdir(ARTIFACTS, { recursive: true });
    for (const stale of (await readdir(ARTIFACTS)).filter((name) => name.startsWith('failed-'))) {
      await rm(join(ARTIFACTS, stale), { force: true });
    }
    packed = await startPackedNodeRed();
    // A fresh profile (playwright's launch() gives every browser a new, temporary --user-data-dir).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await packed?.stop();
  });

  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state === 'failed') {
      const slug = test.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      for (const [index, context] of contexts.entries()) {
        for (const page of context.pages()) {
          await page.screenshot({ path: join(ARTIFACTS, `failed-${slug}-${index}.png`) }).catch(() => undefined);
        }
      }
      if (packed) console.log(`--- Node-RED output ---\n${packed.nodeRed.output()}\n--- end of Node-RED output ---`);
    }
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
  });

  /** A new browser window with the editor loaded, in the given language (the browser's locale). */
  async function openEditor(locale = 'en-US'): Promise<Page> {
    const context = await browser!.newContext({ locale, viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offHost.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(packed!.nodeRed.url, { timeout: 30_000 });
    await editorLoaded(page);
    return page;
  }

  /** A flow of its own tab with a bfl-fill node (or `type`; and, when `config` is given, that bfl-config node). */
  function fillFlow(
    config?: object,
    type = 'bfl-fill',
  ): { tab: string; fill: string; config?: string; flow: object[] } {
    const tab = newId();
    const fill = newId();
    const configNode = config ? { id: newId(), type: 'bfl-config', ...config } : undefined;
    const flow = [
      { id: tab, type: 'tab', label: `browser test ${tab.slice(0, 4)}` },
      {
        id: fill,
        type,
        z: tab,
        config: configNode?.id ?? '',
        x: 240,
        y: 120,
        wires: [[]],
      },
      ...(configNode ? [configNode] : []),
    ];
    return { tab, fill, config: configNode?.id, flow };
  }

  /** The text box a user types into: the TypedInput's own input for a TypedInput field, else the field. */
  const field = (page: Page, prop: string): Locator =>
    page.locator(
      `#node-input-${prop}.red-ui-typedInput + .red-ui-typedInput-container input.red-ui-typedInput-input, ` +
        `#node-input-${prop}:not(.red-ui-typedInput)`,
    );

  /** The error triangle on a node on the canvas (hidden while the node is valid). */
  const errorTriangle = (page: Page, id: string): Locator =>
    canvasNode(page, id).locator('g.red-ui-flow-node-error:not(.hide)');

  it('shows bfl fill in the palette under function, and the config node only in the config sidebar', async function () {
    const page = await openEditor();
    const fill = page.locator('#red-ui-palette-function .red-ui-palette-node[data-palette-type="bfl-fill"]');
    await fill.scrollIntoViewIfNeeded();
    assert.ok(await fill.isVisible(), 'bfl fill is not visible in the function category');
    assert.equal(
      text(await fill.locator('.red-ui-palette-label').innerText()),
      entry('en-US', 'bfl-fill', 'paletteLabel'),
    );
    assert.equal(await page.locator('#red-ui-palette [data-palette-type="bfl-config"]').count(), 0);

    const { tab, flow } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 });
    await importFlow(page, flow);
    await showTab(page, tab);
    await showSidebar(page, 'config');
    const listed = page.locator('.red-ui-palette-node-config', {
      hasText: entry('en-US', 'bfl-config', 'defaultName.emulator'),
    });
    await listed.first().waitFor();
    assert.ok(await listed.first().isVisible());
  });

  it('adds a bfl fill node from the palette whose dialog shows every field with its default', async function () {
    const page = await openEditor();
    await page.locator('#red-ui-palette-search input').fill('bfl');
    const before = await fillNodeIds(page);
    await page
      .locator('.red-ui-palette-node[data-palette-type="bfl-fill"]')
      .dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 300, y: 200 } });
    await page.waitForFunction(
      (known) =>
        (globalThis as unknown as EditorWindow)
          .RED!.nodes.filterNodes({ type: 'bfl-fill' })
          .some((node) => !known.includes(node.id)),
      before,
    );
    const added = (await fillNodeIds(page)).filter((id) => !before.includes(id));
    assert.equal(added.length, 1, 'dragging bfl fill onto the canvas did not add one node');
    await openDialog(page, added[0]!);

    assert.equal(await field(page, 'prompt').inputValue(), '');
    assert.equal(await field(page, 'steps').inputValue(), '50');
    assert.equal(await field(page, 'guidance').inputValue(), '60');
    assert.equal(await field(page, 'seed').inputValue(), '');
    assert.equal(await page.locator('#node-input-outputFormat').inputValue(), 'jpeg');
    assert.equal(text(await page.locator('#node-input-outputFormat option:checked').innerText()), 'JPEG');
    assert.equal(await page.locator('#node-input-safetyTolerance').inputValue(), '2');
    assert.equal(await page.locator('#node-input-promptUpsampling').isChecked(), false);
    assert.equal(await field(page, 'timeout').inputValue(), '300');
    assert.equal(await page.locator('#node-input-maskInvert').inputValue(), 'false');
    assert.equal(await field(page, 'maskGrow').inputValue(), '0');
    assert.equal(await field(page, 'maskFeather').inputValue(), '0');
    assert.equal(await page.locator('#node-input-pasteBack').isChecked(), true);
    assert.equal(await page.locator('#node-input-cropToMask').isChecked(), false);
    assert.equal(
      await page.locator('#node-input-cropMargin').isVisible(),
      false,
      'crop margin shows only when cropping',
    );
    await page.locator('#node-input-cropToMask').check();
    assert.equal(await field(page, 'cropMargin').inputValue(), '64');
    assert.equal(await field(page, 'maxMegapixels').inputValue(), '');
    assert.equal(await page.locator('#node-input-preview').isChecked(), false);
    for (const prop of [
      'prompt',
      'steps',
      'guidance',
      'seed',
      'timeout',
      'outputFormat',
      'safetyTolerance',
      'maskGrow',
      'maskFeather',
      'cropMargin',
      'maxMegapixels',
    ]) {
      assert.ok(await field(page, prop).isVisible(), `${prop} is not visible`);
    }
    for (const [prop, label] of Object.entries(labels('en-US', FILL_FIELDS))) {
      assert.equal(text(await page.locator(`label[for="node-input-${prop}"]`).innerText()), label);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'fill-dialog.png') });
  });

  it('shows the base URL only for the custom region, and the emulator credits on Check key', async function () {
    const page = await openEditor();
    const { tab, fill, flow } = fillFlow();
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, fill);
    await page.locator('#node-input-btn-config-add').click();
    const region = page.locator('#node-config-input-region');
    await region.waitFor();
    const baseUrlRow = page.locator('.form-row', { has: page.locator('#node-config-input-baseUrl') });

    assert.equal(await region.inputValue(), 'global');
    for (const [prop, label] of Object.entries(labels('en-US', CONFIG_FIELDS))) {
      assert.equal(text(await page.locator(`label[for="node-config-input-${prop}"]`).innerText()), label, prop);
    }
    assert.equal(await baseUrlRow.isVisible(), false, 'the base URL shows for region global');
    const regionHint = page.locator('#bfl-config-hint-region');
    assert.equal(text(await regionHint.innerText()), entry('en-US', 'bfl-config', 'hint.region.global'));
    for (const other of ['eu', 'us']) {
      await region.selectOption(other);
      assert.equal(await baseUrlRow.isVisible(), false, `the base URL shows for region ${other}`);
      assert.equal(text(await regionHint.innerText()), entry('en-US', 'bfl-config', `hint.region.${other}`));
    }
    await region.selectOption('custom');
    await baseUrlRow.waitFor();
    const baseUrl = page.locator('#node-config-input-baseUrl');
    await baseUrl.fill('not a URL');
    await baseUrl.press('Tab');
    await page.locator('#node-config-input-baseUrl.input-error').waitFor();
    await baseUrl.fill('https://bfl-proxy.example.test');
    await baseUrl.press('Tab');
    await page.locator('#node-config-input-baseUrl:not(.input-error)').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'config-dialog-custom.png') });

    await region.selectOption('emulator');
    await baseUrlRow.waitFor({ state: 'hidden' });
    // The webhook URL: refused with a query; with this Node-RED's own address, Check key finds the receiver.
    const webhookUrl = page.locator('#node-config-input-webhookUrl');
    assert.match(text(await page.locator('#bfl-config-hint-webhookUrl').innerText()), /\/bfl\/webhook\//);
    await webhookUrl.fill('https://nodered.example.test/?x=1');
    await webhookUrl.press('Tab');
    await page.locator('#node-config-input-webhookUrl.input-error').waitFor();
    await webhookUrl.fill(packed!.nodeRed.url);
    await webhookUrl.press('Tab');
    await page.locator('#node-config-input-webhookUrl:not(.input-error)').waitFor();
    await page.locator('#bfl-config-check-key').click();
    const webhookLine = page.locator('#bfl-config-check-webhook');
    await webhookLine.locator('.fa-check').waitFor();
    assert.match(
      text(await webhookLine.innerText()),
      new RegExp(`^Webhook URL answers: ${packed!.nodeRed.url}/bfl/webhook/`),
    );
    await webhookUrl.fill('');
    // The button asks the runtime (POST bfl-config/check-key) and shows its answer in the catalog's words.
    const [answer] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/bfl-config/check-key'),
      page.locator('#bfl-config-check-key').click(),
    ]);
    assert.equal(answer.status(), 200, await answer.text());
    const credits = ((await answer.json()) as { credits: number }).credits;
    assert.equal(typeof credits, 'number');
    const result = page.locator('#bfl-config-check-result');
    await result.locator('.fa-check').waitFor();
    // A node never deployed has spent nothing today; no limit is typed in the dialog.
    const expected = entry('en-US', 'bfl-config', 'check.okSpent')
      .replace('__credits__', credits.toLocaleString('en-US'))
      .replace('__spent__', '0');
    assert.equal(text(await result.innerText()), expected);
    await page.screenshot({ path: join(ARTIFACTS, 'config-dialog-emulator.png') });

    // Added, the account is the fill node's choice and the config sidebar lists it.
    await page.locator('#node-config-dialog-ok').click();
    await region.waitFor({ state: 'detached' });
    assert.notEqual(await page.locator('#node-input-config').inputValue(), '_ADD_');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await showSidebar(page, 'config');
    await page
      .locator('.red-ui-palette-node-config', {
        hasText: entry('en-US', 'bfl-config', 'defaultName.emulator'),
      })
      .first()
      .waitFor();
  });

  it('marks out-of-range steps and guidance invalid, in the dialog and on the node', async function () {
    const page = await openEditor();
    const { tab, fill, flow } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 });
    await importFlow(page, flow);
    await showTab(page, tab);
    await canvasNode(page, fill).waitFor();
    assert.equal(await errorTriangle(page, fill).count(), 0, 'the imported node is invalid from the start');

    await openDialog(page, fill);
    const steps = page.locator('#node-input-steps + .red-ui-typedInput-container');
    const guidance = page.locator('#node-input-guidance + .red-ui-typedInput-container');
    await field(page, 'steps').fill('60');
    await field(page, 'steps').press('Tab');
    await page.locator('#node-input-steps + .red-ui-typedInput-container.input-error').waitFor();
    await field(page, 'guidance').fill('0.5');
    await field(page, 'guidance').press('Tab');
    await page.locator('#node-input-guidance + .red-ui-typedInput-container.input-error').waitFor();
    assert.match(String(await steps.getAttribute('class')), /\binput-error\b/);
    assert.match(String(await guidance.getAttribute('class')), /\binput-error\b/);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await errorTriangle(page, fill).waitFor();

    // Back in range: the marks go.
    await openDialog(page, fill);
    await field(page, 'steps').fill('15');
    await field(page, 'steps').press('Tab');
    await field(page, 'guidance').fill('1.5');
    await field(page, 'guidance').press('Tab');
    await page.locator('#node-input-guidance + .red-ui-typedInput-container:not(.input-error)').waitFor();
    assert.doesNotMatch(String(await steps.getAttribute('class')), /\binput-error\b/);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await errorTriangle(page, fill).waitFor({ state: 'detached' });
  });

  it('deploys a typed API key, but neither the export nor GET /flows contains it', async function () {
    const page = await openEditor();
    const { tab, fill, config, flow } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 });
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, fill);
    await page.locator('#node-input-btn-config-edit').click();
    await page.locator('#node-config-input-apiKey').fill(API_KEY);
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-apiKey').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });

    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
    const stored = await packed!.api(`/credentials/bfl-config/${config!}`);
    assert.equal((stored.json() as { has_apiKey?: boolean }).has_apiKey, true, 'the typed key did not reach Node-RED');
    assert.ok(!stored.text().includes(API_KEY), 'GET /credentials returned the key');

    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-export').click();
    await page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    await page.locator('#red-ui-tab-red-ui-clipboard-dialog-export-tab-clipboard-json a').click();
    const exported = page.locator('#red-ui-clipboard-dialog-export-text');
    await exported.waitFor();
    const json = await exported.inputValue();
    const nodes = JSON.parse(json) as Array<{ id: string; type: string }>;
    assert.ok(
      nodes.some((node) => node.id === config && node.type === 'bfl-config'),
      'the export lacks the config node',
    );
    assert.ok(
      nodes.some((node) => node.id === fill),
      'the export lacks the fill node',
    );
    assert.ok(!json.includes(API_KEY), 'the exported flow contains the API key');

    const flows = await packed!.api('/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
    assert.equal(flows.status, 200);
    assert.ok((flows.json() as { flows: Array<{ id: string }> }).flows.some((node) => node.id === config));
    assert.ok(!flows.text().includes(API_KEY), 'GET /flows contains the API key');
    assert.ok(!packed!.nodeRed.output().includes(API_KEY), 'Node-RED printed the API key');
  });

  it('shows the help of bfl fill with Inputs, Outputs, Details and References', async function () {
    const page = await openEditor();
    const { tab, fill, flow } = fillFlow();
    await importFlow(page, flow);
    await showTab(page, tab);
    await canvasNode(page, fill).click();
    await showSidebar(page, 'help');
    const help = page.locator('.red-ui-sidebar-help-stack .red-ui-help').first();
    await help.locator('h3').first().waitFor();
    const headings = (await help.locator('h3').allInnerTexts()).map(text);
    for (const section of ['Inputs', 'Outputs', 'Details', 'References']) {
      assert.ok(headings.includes(section), `the help has no section ${section}: ${headings.join(', ')}`);
    }
    assert.match(text(await help.innerText()), /FLUX\.1 Fill \[pro\]/);
    await page.screenshot({ path: join(ARTIFACTS, 'help-sidebar.png') });
  });

  it('shows a preview of the last result under the node when preview is on', async function () {
    const page = await openEditor();
    const { tab, fill, flow } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 });
    const image = await sharp({ create: { width: 48, height: 32, channels: 3, background: '#3060a0' } })
      .png()
      .toBuffer();
    const inject = newId();
    const withPreview = flow.map((node) =>
      (node as { id: string }).id === fill ? { ...node, preview: true, outputFormat: 'png' } : node,
    );
    withPreview.push({
      id: inject,
      type: 'inject',
      z: tab,
      x: 80,
      y: 120,
      props: [{ p: 'payload' }, { p: 'mask', v: '[{"x":8,"y":8,"width":16,"height":12}]', vt: 'json' }],
      payload: image.toString('base64'),
      payloadType: 'str',
      repeat: '',
      once: false,
      wires: [[fill]],
    });
    await importFlow(page, withPreview);
    await showTab(page, tab);
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
    await canvasNode(page, inject).locator('.red-ui-flow-node-button').click();
    const preview = page.locator(`#bfl-fill-preview-${fill}`);
    await preview.waitFor({ state: 'attached' });
    assert.match((await preview.getAttribute('href')) ?? '', /^data:image\/jpeg;base64,/);
    assert.deepEqual([await preview.getAttribute('width'), await preview.getAttribute('height')], ['48', '32']);
    await canvasNode(page, fill).screenshot({ path: join(ARTIFACTS, 'preview-under-node.png') });
  });

  it('shows the German labels of the fill dialog when the browser is German', async function () {
    const page = await openEditor('de-DE');
    const { tab, fill, flow } = fillFlow();
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, fill);
    const german = labels('de', FILL_FIELDS);
    const english = labels('en-US', FILL_FIELDS);
    const differing = Object.keys(german).filter((prop) => german[prop] !== english[prop]);
    assert.ok(differing.length >= 3, 'the German catalog hardly differs from the English one');
    for (const [prop, label] of Object.entries(german)) {
      assert.equal(text(await page.locator(`label[for="node-input-${prop}"]`).innerText()), label, `label of ${prop}`);
    }
    const sections = (await page.locator('.red-ui-tray .bfl-fill-section').allInnerTexts()).map(text);
    assert.deepEqual(sections, Object.values(catalog('de', 'bfl-fill').section as Record<string, string>));
    await page.screenshot({ path: join(ARTIFACTS, 'fill-dialog-de.png') });
  });

  it('shows the fine-tune fields of the fill dialog only for the fine-tuned model, and requires the id there', async function () {
    const page = await openEditor();
    const { tab, fill, flow } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 });
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, fill);
    const model = page.locator('#node-input-model');
    assert.equal(await model.inputValue(), 'flux-pro-1.0-fill');
    assert.equal(await field(page, 'finetuneId').isVisible(), false, 'the fine-tune id shows for the plain fill');
    assert.equal(await field(page, 'finetuneStrength').isVisible(), false);

    await model.selectOption('flux-pro-1.0-fill-finetuned');
    await field(page, 'finetuneId').waitFor();
    assert.equal(await field(page, 'finetuneStrength').inputValue(), '1.1');
    // Empty, the id is refused for this model.
    await page.locator('#node-input-finetuneId + .red-ui-typedInput-container.input-error').waitFor();
    await field(page, 'finetuneId').fill('org-1/my-lora');
    await field(page, 'finetuneId').press('Tab');
    await page.locator('#node-input-finetuneId + .red-ui-typedInput-container:not(.input-error)').waitFor();
    await field(page, 'finetuneStrength').fill('2.5');
    await field(page, 'finetuneStrength').press('Tab');
    await page.locator('#node-input-finetuneStrength + .red-ui-typedInput-container.input-error').waitFor();
    await field(page, 'finetuneStrength').fill('0.8');
    await field(page, 'finetuneStrength').press('Tab');
    await page.screenshot({ path: join(ARTIFACTS, 'fill-dialog-finetuned.png') });

    await model.selectOption('flux-pro-1.0-fill');
    await field(page, 'finetuneId').waitFor({ state: 'hidden' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    const saved = await page.evaluate(
      (id) =>
        (globalThis as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> } } }).RED.nodes.node(id),
      fill,
    );
    assert.deepEqual(
      [saved.model, saved.finetuneId, saved.finetuneStrength],
      ['flux-pro-1.0-fill', 'org-1/my-lora', '0.8'],
    );
  });

  it('adds a bfl expand node whose dialog shows its defaults, the sides in a diagram, and the aspect ratio', async function () {
    const page = await openEditor();
    const expand = page.locator('#red-ui-palette-function .red-ui-palette-node[data-palette-type="bfl-expand"]');
    await expand.scrollIntoViewIfNeeded();
    assert.equal(
      text(await expand.locator('.red-ui-palette-label').innerText()),
      entry('en-US', 'bfl-expand', 'paletteLabel'),
    );
    const {
      tab,
      fill: id,
      flow,
    } = fillFlow({ region: 'emulator', name: '', baseUrl: '', maxConcurrent: 24 }, 'bfl-expand');
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, id);

    for (const side of ['top', 'bottom', 'left', 'right']) assert.equal(await field(page, side).inputValue(), '0');
    assert.equal(await field(page, 'aspectRatio').inputValue(), '');
    assert.equal(await page.locator('#node-input-anchor').isVisible(), false, 'the anchor shows without a ratio');
    assert.equal(await page.locator('#node-input-pasteBack').isChecked(), true);
    assert.equal(await field(page, 'seamFeather').inputValue(), '0');
    assert.equal(await field(page, 'steps').inputValue(), '50');
    for (const [prop, label] of Object.entries(labels('en-US', EXPAND_FIELDS))) {
      if (prop === 'anchor') continue;
      assert.equal(text(await page.locator(`label[for="node-input-${prop}"]`).innerText()), label, prop);
    }

    // The diagram: the original moves right as pixels are added on the left, and each side is labelled.
    const original = page.locator('#bfl-expand-diagram-original');
    assert.equal(await original.evaluate((element) => (element as { style: { left: string } }).style.left), '0px');
    await field(page, 'left').fill('512');
    await field(page, 'left').press('Tab');
    await page.locator('#bfl-expand-diagram-left', { hasText: '512' }).waitFor();
    assert.notEqual(await original.evaluate((element) => (element as { style: { left: string } }).style.left), '0px');
    await page.screenshot({ path: join(ARTIFACTS, 'expand-dialog-sides.png') });

    // Out of range: marked, as the engine would refuse it.
    await field(page, 'top').fill('3000');
    await field(page, 'top').press('Tab');
    await page.locator('#node-input-top + .red-ui-typedInput-container.input-error').waitFor();
    await field(page, 'top').fill('0');
    await field(page, 'top').press('Tab');

    // An aspect ratio takes the place of the sides, with an anchor.
    await field(page, 'aspectRatio').fill('16:9');
    await field(page, 'aspectRatio').press('Tab');
    await page.locator('#node-input-anchor').waitFor();
    assert.equal(await field(page, 'left').isVisible(), false, 'the sides show with an aspect ratio');
    assert.equal(await page.locator('#node-input-anchor').inputValue(), 'center');
    await page.locator('#node-input-anchor').selectOption('left');
    assert.equal(await original.evaluate((element) => (element as { style: { left: string } }).style.left), '0px');
    assert.match(text(await page.locator('#bfl-expand-diagram-caption').innerText()), /16:9/);
    await page.screenshot({ path: join(ARTIFACTS, 'expand-dialog-ratio.png') });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    assert.equal(await errorTriangle(page, id).count(), 0);
  });

  it('shows the help of bfl expand, in German when the browser is German', async function () {
    const page = await openEditor('de-DE');
    const { tab, fill: id, flow } = fillFlow(undefined, 'bfl-expand');
    await importFlow(page, flow);
    await showTab(page, tab);
    await canvasNode(page, id).click();
    await showSidebar(page, 'help');
    const help = page.locator('.red-ui-sidebar-help-stack .red-ui-help').first();
    await help.locator('h3').first().waitFor();
    const headings = (await help.locator('h3').allInnerTexts()).map(text);
    for (const section of ['Eingangsdaten', 'Ausgangsdaten', 'Details', 'Referenzen']) {
      assert.ok(headings.includes(section), `the help has no section ${section}: ${headings.join(', ')}`);
    }
    assert.match(text(await help.innerText()), /FLUX\.1 Expand \[pro\]/);
    await openDialog(page, id);
    for (const [prop, label] of Object.entries(labels('de', EXPAND_FIELDS))) {
      if (prop === 'anchor') continue;
      assert.equal(text(await page.locator(`label[for="node-input-${prop}"]`).innerText()), label, prop);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'expand-dialog-de.png') });
  });

  it('sent no request anywhere but 127.0.0.1 and raised no error in the page', function () {
    assert.deepEqual(offHost, [], 'requests that left 127.0.0.1 (blocked)');
    assert.deepEqual(pageErrors, [], 'errors thrown in the editor page');
  });
});

/** The ids of the bfl-fill nodes the editor knows. */
function fillNodeIds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (globalThis as unknown as EditorWindow).RED!.nodes.filterNodes({ type: 'bfl-fill' }).map((node) => node.id),
  );
}
