/**
 * The mask painter of the bfl-fill dialog in a real browser, as a user works it: load a picture, draw each
 * kind of shape with the mouse, move, resize and delete, save and reopen; a deployed flow submits the mask
 * that was drawn (checked in the emulator's record of the submit); the node's last input and preview are
 * there when the editor is opened again; touch, a narrow window, a high pixel ratio and German work too.
 * Screenshots go to test-artifacts/painter-*-nr<major>.png.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Locator, Page } from 'playwright-core';
import type { BflEmulator } from '../../lib/emulator';
import { maskFromShapes } from '../../lib/image';
import { startPackedNodeRed, type PackedNodeRed } from '../pack/packed-node-red';
import { startEmulator, TEST_KEY } from '../support/emulator';
import {
  ARTIFACTS,
  canvasNode,
  closeDialog,
  deploy,
  EditorSession,
  editorLoaded,
  importFlow,
  newId,
  NODE_RED_MAJOR,
  nodeProperty,
  openDialog,
  showSidebar,
  showTab,
  squash,
} from './support';

const W = 400;
const H = 300;
type Point = [number, number];
type Stored = Record<string, number | number[][]>;

/** Sky above a field, with a "car" to paint out: a picture whose shapes a user can see. */
function picture(): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<rect width="${W}" height="${H * 0.6}" fill="#7fb2e6"/><rect y="${H * 0.6}" width="${W}" height="${H * 0.4}" fill="#6a8f3a"/>` +
    `<rect x="60" y="150" width="110" height="50" rx="12" fill="#c0392b"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function near(actual: unknown, expected: Stored, what: string): void {
  const shape = actual as Stored;
  assert.deepEqual(Object.keys(shape).sort(), Object.keys(expected).sort(), `${what}: ${JSON.stringify(actual)}`);
  for (const [key, value] of Object.entries(expected)) {
    const got = shape[key];
    if (Array.isArray(value)) {
      (value as number[][]).forEach((point, i) =>
        point.forEach((v, j) => assert.ok(Math.abs((got as number[][])[i]![j]! - v) <= 0.01, `${what} ${key}`)),
      );
    } else {
      assert.ok(Math.abs((got as number) - value) <= 0.01, `${what}: ${key} is ${String(got)}, not about ${value}`);
    }
  }
}

describe('the mask painter in a real browser (Chromium)', function () {
  let packed: PackedNodeRed | undefined;
  let session: EditorSession | undefined;
  let emulator: BflEmulator;
  let image: Buffer;

  before(async function () {
    this.timeout(300_000);
    image = await picture();
    emulator = await startEmulator({ processingMs: 10 });
    packed = await startPackedNodeRed();
    session = await EditorSession.start(packed);
  });

  after(async function () {
    this.timeout(60_000);
    await session?.stop();
    await packed?.stop();
    await emulator?.close();
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed' ? this.currentTest.title : undefined;
    if (failed && packed) console.log(`--- Node-RED output ---\n${packed.nodeRed.output()}\n---`);
    await session?.closeWindows(failed);
  });

  const painter = (page: Page): Locator => page.locator('#bfl-fill-painter');
  const surface = (page: Page): Locator => page.locator('#bfl-fill-painter canvas');
  const shapeCount = (page: Page, count: number) =>
    page.locator(`#bfl-fill-painter[data-shape-count="${count}"]`).waitFor();

  async function at(page: Page, [x, y]: Point): Promise<Point> {
    await surface(page).scrollIntoViewIfNeeded();
    const box = (await surface(page).boundingBox())!;
    // Inside the 1-pixel border, as the painter measures.
    return [box.x + 1 + x * (box.width - 2), box.y + 1 + y * (box.height - 2)];
  }

  async function drag(page: Page, from: Point, to: Point): Promise<void> {
    await page.mouse.move(...(await at(page, from)));
    await page.mouse.down();
    await page.mouse.move(...(await at(page, to)), { steps: 6 });
    await page.mouse.up();
  }

  async function click(page: Page, point: Point): Promise<void> {
    await page.mouse.click(...(await at(page, point)));
  }

  async function tool(page: Page, name: string): Promise<void> {
    await painter(page).locator(`[data-tool="${name}"]`).click();
  }

  async function loadPicture(page: Page): Promise<void> {
    await painter(page).scrollIntoViewIfNeeded();
    await painter(page)
      .locator('input[type="file"]')
      .setInputFiles({ name: 'driveway.png', mimeType: 'image/png', buffer: image });
    await page.locator('#bfl-fill-painter[data-background="file"]').waitFor();
  }

  function fillFlow(fill: Record<string, unknown> = {}) {
    const tab = newId();
    const id = newId();
    const config = newId();
    const flow: Array<Record<string, unknown>> = [
      { id: tab, type: 'tab', label: `painter ${tab.slice(0, 4)}` },
      { id, type: 'bfl-fill', z: tab, config, x: 300, y: 120, wires: [[]], ...fill },
      { id: config, type: 'bfl-config', name: '', region: 'custom', baseUrl: emulator.apiUrl, maxConcurrent: 24 },
    ];
    return { tab, id, config, flow };
  }

  it('draws each kind of shape, moves, resizes and deletes, and keeps them through save and reopen', async () => {
    const page = await session!.open();
    const { tab, id, flow } = fillFlow();
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, id);
    await loadPicture(page);
    assert.equal(await painter(page).locator('[data-tool="rect"]').getAttribute('aria-pressed'), 'true');

    await drag(page, [0.1, 0.1], [0.4, 0.5]); // the rectangle tool is active from the start
    await shapeCount(page, 1);
    await tool(page, 'ellipse');
    await drag(page, [0.55, 0.15], [0.85, 0.45]);
    await shapeCount(page, 2);
    await tool(page, 'polygon');
    for (const corner of [
      [0.2, 0.7],
      [0.45, 0.7],
      [0.3, 0.9],
    ] as Point[])
      await click(page, corner);
    await surface(page).press('Escape'); // cancels the open polygon, not the dialog
    await shapeCount(page, 2);
    for (const corner of [
      [0.2, 0.7],
      [0.45, 0.7],
      [0.3, 0.9],
      [0.2, 0.7],
    ] as Point[])
      await click(page, corner);
    await shapeCount(page, 3);
    await page.screenshot({ path: join(ARTIFACTS, `painter-drawn-nr${NODE_RED_MAJOR}.png`) });

    await tool(page, 'select');
    await drag(page, [0.25, 0.3], [0.3, 0.35]); // moves the rectangle by (0.05, 0.05)
    await drag(page, [0.45, 0.55], [0.5, 0.6]); // its bottom right handle
    await click(page, [0.7, 0.3]);
    await surface(page).press('Delete');
    await shapeCount(page, 2);
    await click(page, [0.3, 0.3]);
    await page.locator('.bfl-painter-item.selected').waitFor();
    await surface(page).press('Escape'); // deselects; the dialog stays open
    await page.locator('.bfl-painter-item.selected').waitFor({ state: 'detached' });
    assert.ok(await page.locator('#node-dialog-ok').isVisible());
    const listed = (await painter(page).locator('.bfl-painter-pick').allInnerTexts()).map(squash);
    assert.match(listed[0]!, /^1\. Rectangle: x 0\.\d+, y 0\.\d+, width 0\.\d+, height 0\.\d+$/);
    assert.match(listed[1]!, /^2\. Polygon: \(0\.\d+; 0\.\d+\) \(0\.\d+; 0\.\d+\) \(0\.\d+; 0\.\d+\)$/);
    await closeDialog(page);

    const saved = (await nodeProperty(page, id, 'maskShapes')) as Stored[];
    assert.equal(saved.length, 2, JSON.stringify(saved));
    near(saved[0], { x: 0.15, y: 0.15, width: 0.35, height: 0.45 }, 'the moved and resized rectangle');
    near(
      saved[1],
      {
        points: [
          [0.2, 0.7],
          [0.45, 0.7],
          [0.3, 0.9],
        ],
      },
      'the polygon',
    );

    await openDialog(page, id);
    await shapeCount(page, 2);
    assert.deepEqual((await painter(page).locator('.bfl-painter-pick').allInnerTexts()).map(squash), listed);
    assert.equal(await painter(page).getAttribute('data-background'), null, 'the picture is not kept in the flow');
    await painter(page).locator('[data-action="clear"]').click();
    await shapeCount(page, 0);
    await page.locator('#node-dialog-cancel').click();
    assert.equal(((await nodeProperty(page, id, 'maskShapes')) as unknown[]).length, 2, 'cancel keeps the shapes');
  });

  it('submits the mask that was drawn, and shows the last input and preview when the editor is opened again', async () => {
    const page = await session!.open();
    const inject = newId();
    const { tab, id, flow } = fillFlow({ outputFormat: 'png', preview: true });
    flow.push({
      id: inject,
      type: 'inject',
      z: tab,
      x: 120,
      y: 120,
      props: [{ p: 'payload' }],
      payload: image.toString('base64'),
      payloadType: 'str',
      repeat: '',
      once: false,
      wires: [[id]],
    });
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, id);
    await page.locator('#node-input-btn-config-edit').click();
    await page.locator('#node-config-input-apiKey').fill(TEST_KEY);
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-apiKey').waitFor({ state: 'detached' });
    await loadPicture(page);
    await drag(page, [0.15, 0.5], [0.45, 0.7]); // over the car
    await shapeCount(page, 1);
    await closeDialog(page);
    const drawn = (await nodeProperty(page, id, 'maskShapes')) as Stored[];
    near(drawn[0], { x: 0.15, y: 0.5, width: 0.3, height: 0.2 }, 'the rectangle');

    emulator.reset();
    await deploy(page);
    await canvasNode(page, inject).locator('.red-ui-flow-node-button').click();
    await canvasNode(page, id).locator('.red-ui-flow-node-status-label', { hasText: 'done' }).waitFor();
    const task = [...emulator.tasks.values()][0]!;
    assert.deepEqual(
      await sharp(task.mask!).greyscale().raw().toBuffer(),
      await sharp(await maskFromShapes({ shapes: drawn, relative: true }, W, H))
        .greyscale()
        .raw()
        .toBuffer(),
      'the submitted mask is the drawn rectangle',
    );
    await page.locator(`#bfl-fill-preview-${id}`).waitFor({ state: 'attached' });

    // Reloaded: the preview is back under the node, and the painter shows the node's last input.
    await page.reload();
    await editorLoaded(page);
    await showTab(page, tab);
    await page.locator(`#bfl-fill-preview-${id}`).waitFor({ state: 'attached' });
    await canvasNode(page, id).screenshot({ path: join(ARTIFACTS, `painter-preview-nr${NODE_RED_MAJOR}.png`) });
    await openDialog(page, id);
    await page.locator('#bfl-fill-painter[data-background="input"]').waitFor();
    await shapeCount(page, 1);
    await painter(page).screenshot({ path: join(ARTIFACTS, `painter-input-nr${NODE_RED_MAJOR}.png`) });
  });

  it('draws by touch in a narrow window at twice the pixel ratio, in German', async () => {
    const page = await session!.open({
      locale: 'de-DE',
      viewport: { width: 900, height: 900 },
      deviceScaleFactor: 2,
      hasTouch: true,
    });
    const { tab, id, flow } = fillFlow();
    await importFlow(page, flow);
    await showTab(page, tab);
    await openDialog(page, id);
    await loadPicture(page);
    for (const name of ['rect', 'ellipse', 'polygon', 'select']) {
      assert.equal(
        squash(await painter(page).locator(`[data-tool="${name}"]`).innerText()),
        session!.text('de', `bfl-fill.painter.tool.${name}`),
      );
    }
    // Everything fits the tray as it is: no part of the painter needs a horizontal scroll.
    const tray = (await page.locator('.red-ui-tray-body-wrapper').boundingBox())!;
    for (const part of ['.bfl-painter-toolbar', '.bfl-painter-stage canvas', '.bfl-painter-status']) {
      const box = (await page.locator(`#bfl-fill-painter ${part}`).boundingBox())!;
      assert.ok(box.x >= tray.x && box.x + box.width <= tray.x + tray.width + 0.5, `${part} overflows the dialog`);
    }
    assert.equal(await page.locator('.red-ui-tray-body-wrapper').evaluate((el) => el.scrollLeft), 0);

    await painter(page).locator('[data-tool="polygon"]').tap();
    for (const corner of [
      [0.6, 0.2],
      [0.9, 0.2],
      [0.75, 0.6],
      [0.6, 0.2],
    ] as Point[]) {
      await page.touchscreen.tap(...(await at(page, corner)));
    }
    await shapeCount(page, 1);
    assert.match(
      squash(await painter(page).locator('.bfl-painter-pick').innerText()),
      /^1\. Polygon: \(0,\d+; 0,\d+\) \(0,\d+; 0,\d+\) \(0,\d+; 0,\d+\)$/,
    );
    await page.screenshot({ path: join(ARTIFACTS, `painter-de-touch-nr${NODE_RED_MAJOR}.png`) });
    await closeDialog(page);

    // The help explains the painter with a picture of it, in German.
    await canvasNode(page, id).locator('rect.red-ui-flow-node').click();
    await showSidebar(page, 'help');
    const help = page.locator('.red-ui-sidebar-help-stack .red-ui-help').first();
    const figure = help.locator('figure svg[role="img"]');
    await figure.waitFor();
    assert.match(String(await figure.getAttribute('aria-label')), /^Die Maske zeichnen/);
    assert.ok((await help.locator('h4').allInnerTexts()).map(squash).includes('Maske zeichnen'));
    await figure.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, `painter-help-de-nr${NODE_RED_MAJOR}.png`) });
    near(
      ((await nodeProperty(page, id, 'maskShapes')) as Stored[])[0],
      {
        points: [
          [0.6, 0.2],
          [0.9, 0.2],
          [0.75, 0.6],
        ],
      },
      'tapped',
    );
  });

  it('sent no request anywhere but 127.0.0.1 and raised no error in the page', function () {
    assert.deepEqual(session!.offHost, [], 'requests that left 127.0.0.1 (blocked)');
    assert.deepEqual(session!.pageErrors, [], 'errors thrown in the editor page');
  });
});
