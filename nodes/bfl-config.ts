/**
 * Node-RED glue for the `bfl-config` node: it holds the API key as a password credential and owns the
 * account's engine (lib/engine/account). Also serves the editor's "Check key" button.
 */
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { asBflError, checkKeyTimeoutError, localise, type BflError } from '../lib/errors';
import { request } from 'undici';
import { Account, normaliseWebhookUrl } from '../lib/engine/account';
import { generateWebhookSecret } from '../lib/engine/webhooks';
import { spendFileIn, spentToday } from '../lib/engine/budget';
import { CONFIG_FIELDS, readNumber } from '../lib/fields';
import { render, text } from '../lib/messages';
import { errorMessage, runtimeTranslate } from './i18n';
import { tuningFromSettings } from './settings';
import type { BflConfigCredentials, BflConfigDef, BflConfigNode } from './types';
import { addReceiver, addWebhookRoutes, webhookPath } from './webhook-routes';

const CHECK_KEY_TIMEOUT_MS = 15_000;
const WEBHOOK_PROBE_TIMEOUT_MS = 5_000;
/**
 * How long a closing config node waits for its account's connections to close before it reports done: enough
 * for aborted jobs to settle, short enough not to hold up a deploy for jobs handed to redeployed nodes.
 */
const CLOSE_WAIT_MS = 1_000;

/**
 * Where a config node keeps what must outlive the process (jobs in flight, today's spend): a folder of its own
 * below the Node-RED user directory; none when the runtime has no user directory.
 */
function stateDirOf(RED: NodeAPI, id: string): string | undefined {
  const userDir = (RED.settings as { userDir?: unknown }).userDir;
  return typeof userDir === 'string' && userDir !== '' ? join(userDir, 'bfl', id) : undefined;
}

/** A node id as Node-RED makes them (hex, perhaps with a dot): never a path such as "../x". */
function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/.test(value);
}

/** The daily credit limit typed in the dialog, if it is a usable one; undefined: none (or not usable). */
function typedLimit(value: unknown): number | undefined {
  try {
    return readNumber(CONFIG_FIELDS.dailyCreditLimit, value, { field: 'dailyCreditLimit' });
  } catch {
    return undefined;
  }
}

/** Whether the receiver URL answers a GET from this Node-RED, as BFL would reach it; the URL has no secret. */
async function probeWebhook(url: string): Promise<{ url: string; reachable: boolean; status: number }> {
  try {
    const answer = await request(url, { method: 'GET', signal: AbortSignal.timeout(WEBHOOK_PROBE_TIMEOUT_MS) });
    const body = await answer.body.text().catch(() => '');
    return { url, reachable: answer.statusCode === 200 && body.includes('"bfl-config"'), status: answer.statusCode };
  } catch {
    return { url, reachable: false, status: 0 };
  }
}

export = function register(RED: NodeAPI): void {
  const translate = runtimeTranslate(RED);
  addWebhookRoutes(RED);

  /** The check-key answer for a failure: the message in the runtime's language, and its key for the editor's. */
  function problemBody(problem: BflError): Record<string, unknown> {
    return {
      code: problem.code,
      message: localise(problem, translate).message,
      key: problem.text.key,
      params: problem.text.params,
    };
  }

  /** The node's webhook secret; one is made and kept as its credential when it has none and needs one. */
  function webhookSecretOf(node: BflConfigNode, config: BflConfigDef): string | undefined {
    const given = node.credentials?.webhookSecret;
    if (typeof given === 'string' && given !== '') return given;
    if (typeof config.webhookUrl !== 'string' || config.webhookUrl.trim() === '') return undefined;
    const secret = generateWebhookSecret();
    // Saved with the next deploy. Should Node-RED restart before that (or the save fail), a new one is made: the
    // old tasks' webhooks are then refused, and their resumed jobs poll.
    Promise.resolve(RED.nodes.addCredentials(node.id, { ...node.credentials, webhookSecret: secret })).catch(
      (error: unknown) => node.warn(errorMessage(error, translate)),
    );
    node.credentials = { ...node.credentials, webhookSecret: secret };
    return secret;
  }

  function BflConfig(this: BflConfigNode, config: BflConfigDef): void {
    RED.nodes.createNode(this, config);
    try {
      this.account = new Account(
        {
          region: config.region,
          baseUrl: config.baseUrl,
          apiKey: this.credentials?.apiKey,
          maxConcurrent: config.maxConcurrent,
          resumeJobs: config.resumeJobs,
          dailyCreditLimit: config.dailyCreditLimit,
          webhookUrl: config.webhookUrl,
          webhookSecret: webhookSecretOf(this, config),
        },
        {
          ...tuningFromSettings(RED.settings),
          webhookPath: webhookPath(RED, config.id),
          stateDir: stateDirOf(RED, config.id),
          onJournalError: (error: unknown) =>
            this.warn(render(text('journal.writeFailed', { reason: errorMessage(error, translate) }), translate)),
        },
      );
    } catch (error) {
      this.account = asBflError(error);
    }
    const account = this.account;
    if (account instanceof Account && account.settings.webhookUrl && !account.webhooks) {
      this.warn(render(text('config.webhookNoServer'), translate));
    }
    if (account instanceof Account && account.webhooks) {
      const removeReceiver = addReceiver(RED, config.id, account.webhooks);
      // Until the account has closed: jobs handed to redeployed nodes still wait for their webhooks on it.
      void account.closed.then(removeReceiver);
    }
    if (account instanceof Account && account.spend.unreadable) {
      const stateDir = stateDirOf(RED, config.id);
      const file = stateDir === undefined ? '' : spendFileIn(stateDir);
      this.warn(render(text('config.spendUnreadable', { file }), translate));
    }
    if (account instanceof Account && account.journal) {
      account.journal.entries().then(
        ({ problems }) => {
          for (const { file, reason } of problems)
            this.warn(render(text('journal.unreadable', { file, reason }), translate));
        },
        (error: unknown) =>
          this.warn(render(text('journal.writeFailed', { reason: errorMessage(error, translate) }), translate)),
      );
      // Once the flows run, every bfl-fill node has claimed its jobs: what is left belonged to nodes now gone.
      const dropOrphans = (): void => {
        account.dropUnclaimed().then(
          (orphans) => {
            for (const entry of orphans) {
              this.warn(
                render(text('journal.nodeGone', { taskId: entry.task?.id ?? '', nodeId: entry.nodeId }), translate),
              );
            }
          },
          (error: unknown) => this.warn(errorMessage(error, translate)),
        );
      };
      RED.events.once('flows:started', dropOrphans);
      this.on('close', () => RED.events.removeListener('flows:started', dropOrphans));
    }
    if (account instanceof Account && account.emulated) {
      account.origin().then(
        (url) => this.log(RED._('bfl-config.status.emulator', { url })),
        (error: unknown) => this.warn(errorMessage(error, translate)),
      );
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      const account = this.account;
      if (!(account instanceof Account)) {
        done();
        return;
      }
      // Jobs handed to the successors of redeployed bfl-fill nodes may still run on this account: it closes
      // once they end, but the deploy need not wait for that.
      const closed = account.close().catch((error: unknown) => {
        this.warn(render(text('config.closeFailed', { reason: errorMessage(error, translate) }), translate));
      });
      let timer: NodeJS.Timeout | undefined;
      const enough = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      });
      void Promise.race([closed, enough]).then(() => {
        clearTimeout(timer);
        done();
      });
    });
  }

  // The typings model credentials as `unknown`; ours are optional strings.
  RED.nodes.registerType('bfl-config', BflConfig as unknown as Parameters<typeof RED.nodes.registerType>[1], {
    credentials: {
      apiKey: { type: 'password' },
      webhookSecret: { type: 'password' },
    },
  });

  /**
   * Check key: asks the API for the account's credits with the key typed in the dialog (not yet deployed)
   * or the deployed one, and tells today's spend of that config node (0 for one never deployed) with the
   * daily credit limit typed in the dialog. The key is never sent back.
   */
  RED.httpAdmin.post(
    '/bfl-config/check-key',
    RED.auth.needsPermission('bfl-config.write'),
    (req: Request, res: Response) => {
      const body = (req.body ?? {}) as {
        id?: unknown;
        region?: unknown;
        baseUrl?: unknown;
        apiKey?: unknown;
        dailyCreditLimit?: unknown;
        webhookUrl?: unknown;
      };
      const typedKey =
        typeof body.apiKey === 'string' && body.apiKey !== '' && body.apiKey !== '__PWRD__' ? body.apiKey : undefined;
      const stored =
        typeof body.id === 'string'
          ? (RED.nodes.getCredentials(body.id) as BflConfigCredentials | undefined)
          : undefined;
      let account: Account;
      try {
        account = new Account(
          { region: body.region, baseUrl: body.baseUrl, apiKey: typedKey ?? stored?.apiKey, maxConcurrent: 1 },
          tuningFromSettings(RED.settings),
        );
      } catch (error) {
        res.status(400).json(problemBody(asBflError(error)));
        return;
      }
      const signal = AbortSignal.timeout(CHECK_KEY_TIMEOUT_MS);
      const typedWebhookUrl = typeof body.webhookUrl === 'string' ? normaliseWebhookUrl(body.webhookUrl) : undefined;
      const path = isNodeId(body.id) ? webhookPath(RED, body.id) : undefined;
      const probe =
        typedWebhookUrl !== undefined && path !== undefined
          ? probeWebhook(`${typedWebhookUrl}${path}`)
          : Promise.resolve(undefined);
      account
        .service()
        .then(async (service) => {
          const credits = await service.credits(signal);
          const stateDir = isNodeId(body.id) ? stateDirOf(RED, body.id) : undefined;
          const { spent, resetsAt } = await spentToday(stateDir === undefined ? undefined : spendFileIn(stateDir));
          return { credits, spend: { spent, limit: typedLimit(body.dailyCreditLimit) ?? null, resetsAt } };
        })
        .then(
          async ({ credits, spend }) => {
            res.json({ credits, emulated: account.emulated, spend, webhook: (await probe) ?? null });
          },
          async (error: unknown) => {
            const problem = signal.aborted ? checkKeyTimeoutError(CHECK_KEY_TIMEOUT_MS / 1000) : asBflError(error);
            const webhook = (await probe) ?? null;
            res.status(problem.code === 'BFL_AUTH' ? 403 : 502).json({ ...problemBody(problem), webhook });
          },
        )
        .finally(() => account.close())
        .catch((error: unknown) =>
          RED.log.warn(render(text('config.checkKeyFailed', { reason: errorMessage(error, translate) }), translate)),
        );
    },
  );
};
