/**
 * What the painter and theme tests in a browser share: Debian's Chromium (playwright-core, never a downloaded
 * browser) on the editor of a packed package in a real Node-RED (test/pack/packed-node-red.ts), with every
 * request checked to stay on 127.0.0.1, and the steps a user takes (import a flow, open a dialog, deploy).
 *
 * Which Node-RED runs comes from PACK_TEST_NODE_RED / PACK_TEST_NODE (scripts/compat.mjs sets them for
 * Node-RED 5); BROWSER_TEST_CHROMIUM overrides /usr/bin/chromium.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { nodeRedPackageVersion, PACKAGE, repoRoot, type PackedNodeRed } from '../pack/packed-node-red';

export const CHROMIUM = process.env.BROWSER_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(repoRoot, 'test-artifacts');
const STEP_TIMEOUT_MS = 15_000;

/** The Node-RED major under test, for the names of screenshots ("nr4", "nr5"). */
export const NODE_RED_MAJOR = Number(nodeRedPackageVersion().split('.')[0]);

/** A random node id in Node-RED's form, so imported flows never clash with what earlier tests deployed. */
export function newId(): string {
  return randomBytes(8).toString('hex');
}

export function squash(value: unknown): string {
  return String(value).replace(/\s+/g, ' ').trim();
}

/** The editor page's globals that the tests read; the page, not these tests, defines them. */
export interface EditorWindow {
  RED?: {
    workspaces?: { active(): string | undefined };
    nodes: { getType(type: string): unknown; node(id: string): Record<string, unknown> | null };
  };
  document: { querySelector(selector: string): unknown; documentElement: { className: string } };
}

export class EditorSession {
  readonly offHost: string[] = [];
  readonly pageErrors: string[] = [];
  private contexts: BrowserContext[] = [];

  private constructor(
    readonly packed: PackedNodeRed,
    private readonly browser: Browser,
  ) {}

  static async start(packed: PackedNodeRed): Promise<EditorSession> {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (or BROWSER_TEST_CHROMIUM)`);
    await mkdir(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
      timeout: 60_000,
    });
    return new EditorSession(packed, browser);
  }

  /** A catalog of the INSTALLED package, e.g. ('de', 'bfl-fill'), and one string of it by its path. */
  text(lang: string, path: string): string {
    const file = join(this.packed.userDir, 'node_modules', PACKAGE, 'dist', 'nodes', 'locales', lang, 'bfl-fill.json');
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], JSON.parse(readFileSync(file, 'utf8')));
    assert.equal(typeof value, 'string', `${lang}/bfl-fill.json has no string at ${path}`);
    return value as string;
  }

  /**
   * A new browser window with the editor loaded. `dark`: Node-RED 5's own dark scheme (its view setting,
   * kept in the browser); a Node-RED 4 run gets its dark theme from the server's settings instead.
   */
  async open(options: BrowserContextOptions & { dark?: boolean } = {}): Promise<Page> {
    const { dark, ...contextOptions } = options;
    const context = await this.browser.newContext({
      locale: 'en-US',
      viewport: { width: 1400, height: 900 },
      ...contextOptions,
    });
    this.contexts.push(context);
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      this.offHost.push(url.href);
      return route.abort();
    });
    if (dark) await context.addInitScript(() => localStorage.setItem('view-dark-theme', 'dark'));
    const page = await context.newPage();
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    await page.goto(this.packed.nodeRed.url, { timeout: 30_000 });
    await editorLoaded(page);
    return page;
  }

  async closeWindows(failedTitle?: string): Promise<void> {
    if (failedTitle) {
      const slug = failedTitle.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      for (const [index, context] of this.contexts.entries()) {
        for (const page of context.pages()) {
          await page.screenshot({ path: join(ARTIFACTS, `failed-${slug}-${index}.png`) }).catch(() => undefined);
        }
      }
    }
    await Promise.all(this.contexts.map((context) => context.close()));
    this.contexts = [];
  }

  async stop(): Promise<void> {
    await this.browser.close();
  }
}

/** Loaded: the node types and the flows are in, and the loading screen is gone. */
export async function editorLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const editor = globalThis as unknown as EditorWindow;
      return (
        !!editor.RED?.workspaces?.active() &&
        !!editor.RED.nodes.getType('bfl-fill') &&
        !editor.document.querySelector('#red-ui-loader')
      );
    },
    undefined,
    { timeout: 30_000 },
  );
}

/** Menu > Import, paste the flow, Import: as a user would. The flow must contain its own tab. */
export async function importFlow(page: Page, flow: object[]): Promise<void> {
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  const json = page.locator('#red-ui-clipboard-dialog-import-text');
  await json.fill(JSON.stringify(flow));
  await json.press('End'); // the dialog checks the JSON on a key press
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
  const notice = page.locator('.red-ui-notification');
  await notice.first().waitFor();
  await notice.first().click();
  await notice.first().waitFor({ state: 'detached' });
}

export async function showTab(page: Page, tab: string): Promise<void> {
  await page.locator(`#red-ui-workspace-tabs a[href="#${tab}"]`).click();
}

export const canvasNode = (page: Page, id: string) => page.locator(`#red-ui-workspace-chart g[id="${id}"]`);

/** Double-clicks the node's body (not its preview, which hangs below it) and waits for its dialog. */
export async function openDialog(page: Page, id: string): Promise<void> {
  await canvasNode(page, id).locator('rect.red-ui-flow-node').dblclick();
  await page.locator('#node-dialog-ok').waitFor();
}

export async function closeDialog(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

export async function deploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
  await page
    .locator('.red-ui-notification', { hasText: /deployed|bereitgestellt/i })
    .first()
    .waitFor();
}

/** A node's property as the editor holds it (what a deploy sends). */
export function nodeProperty(page: Page, id: string, property: string): Promise<unknown> {
  return page.evaluate(
    ([nodeId, name]) => (globalThis as unknown as EditorWindow).RED!.nodes.node(nodeId!)?.[name!],
    [id, property],
  );
}

/**
 * Opens a sidebar tab by Node-RED's own action: Node-RED 5's redesigned sidebar has no tab buttons of the
 * old ids, and the action is the same in 4 and 5.
 */
export async function showSidebar(page: Page, tab: 'help' | 'config'): Promise<void> {
  await page.evaluate(
    (action) =>
      (globalThis as unknown as { RED: { actions: { invoke(name: string): void } } }).RED.actions.invoke(action),
    `core:show-${tab}-tab`,
  );
}
