/**
 * Node-RED glue for the `bfl-config` node: it holds the API key as a password credential and owns the
 * account's engine (lib/jobs/account). Also serves the editor's "Check key" button.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { BflError } from '../lib/bfl/errors';
import { Account } from '../lib/jobs/account';
import { tuningFromSettings } from './settings';
import type { BflConfigCredentials, BflConfigDef, BflConfigNode } from './types';

const CHECK_KEY_TIMEOUT_MS = 15_000;

function asBflError(error: unknown): BflError {
  if (error instanceof BflError) return error;
  return new BflError('BFL_NETWORK', error instanceof Error ? error.message : String(error), { cause: error });
}

export = function register(RED: NodeAPI): void {
  function BflConfig(this: BflConfigNode, config: BflConfigDef): void {
    RED.nodes.createNode(this, config);
    try {
      this.account = new Account(
        {
          region: config.region,
          baseUrl: config.baseUrl,
          apiKey: this.credentials?.apiKey,
          maxConcurrent: config.maxConcurrent,
        },
        tuningFromSettings(RED.settings),
      );
    } catch (error) {
      this.accountError = asBflError(error);
    }
    const account = this.account;
    if (account?.emulated) {
      account.origin().then(
        (url) => this.log(RED._('bfl-config.status.emulator', { url })),
        (error: unknown) => this.warn((error as Error).message),
      );
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      const account = this.account;
      if (!account) {
        done();
        return;
      }
      account.close().then(done, (error: unknown) => {
        this.warn(`closing the BFL account failed: ${(error as Error).message}`);
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
   * or the deployed one. The key is never sent back.
   */
  RED.httpAdmin.post(
    '/bfl-config/check-key',
    RED.auth.needsPermission('bfl-config.write'),
    (req: Request, res: Response) => {
      const body = (req.body ?? {}) as { id?: unknown; region?: unknown; baseUrl?: unknown; apiKey?: unknown };
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
        const problem = asBflError(error);
        res.status(400).json({ code: problem.code, message: problem.message });
        return;
      }
      const signal = AbortSignal.timeout(CHECK_KEY_TIMEOUT_MS);
      account
        .service()
        .then((service) => service.credits(signal))
        .then(
          (credits) => {
            res.json({ credits, emulated: account.emulated });
          },
          (error: unknown) => {
            const problem = signal.aborted
              ? new BflError('BFL_TIMEOUT', 'The BFL API did not answer within 15 s.')
              : asBflError(error);
            res.status(problem.code === 'BFL_AUTH' ? 403 : 502).json({ code: problem.code, message: problem.message });
          },
        )
        .finally(() => account.close())
        .catch((error: unknown) => RED.log.warn(`bfl-config check-key: ${(error as Error).message}`));
    },
  );
};
