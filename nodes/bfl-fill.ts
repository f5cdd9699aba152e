/**
 * Node-RED glue for the `bfl-fill` node: evaluates the node's fields, hands the message's images to the
 * engine (lib/engine/fill), reports progress as status and the outcome through send/done. Everything it
 * decides is in lib/; this file only translates.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeMessage } from 'node-red';
import { BflError, invalidInput } from '../lib/errors';
import { Account } from '../lib/engine/account';
import { fill, previewOf, type FillOutcome } from '../lib/engine/fill';
import { FILL_INPUTS, fieldSource, type FillInputName, type RawFillInputs } from '../lib/fields';
import { ActivityReporter } from '../lib/engine/activity';
import { text } from '../lib/messages';
import { localiseError, runtimeTranslate } from './i18n';
import { statusView } from './status';
import type { BflConfigNode } from './types';

/** Editor topic of a node's preview thumbnail; the editor subscribes to `bfl-fill/preview/#`. */
function previewTopic(id: string): string {
  return `bfl-fill/preview/${id}`;
}

interface BflFillDef extends NodeDef, Partial<Record<FillInputName | `${FillInputName}Type`, unknown>> {
  config?: string;
  preview?: unknown;
}

type FillMessage = NodeMessageInFlow & { mask?: unknown; prompt?: unknown; seed?: unknown; bfl?: unknown };

const CLOSE_GRACE_MS = 10_000;

export = function register(RED: NodeAPI): void {
  const translate = runtimeTranslate(RED);

  function evaluate(node: Node, source: { value: string; type: string }, msg: NodeMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      RED.util.evaluateNodeProperty(source.value, source.type, node, msg, (error, result) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
      );
    });
  }

  /** Every input field's value for this message, read from msg, context or env where its TypedInput says so. */
  async function readInputs(node: Node, config: BflFillDef, msg: NodeMessage): Promise<RawFillInputs> {
    const values: RawFillInputs = {};
    for (const field of FILL_INPUTS) {
      const source = fieldSource(config[field], config[`${field}Type`]);
      if (!('evaluate' in source)) {
        values[field] = source.value;
        continue;
      }
      try {
        values[field] = await evaluate(node, source.evaluate, msg);
      } catch (error) {
        throw invalidInput(
          text('field.unreadable', { field: text(`field.label.${field}`), reason: (error as Error).message }),
          error,
        );
      }
    }
    return values;
  }

  function BflFill(this: Node, config: BflFillDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const configNode = config.config ? (RED.nodes.getNode(config.config) as BflConfigNode | null) : null;
    const closing = new AbortController();
    const showPreview = config.preview === true || config.preview === 'true';

    /** Sends the thumbnail to open editors; a preview that fails only costs a warning, never the message. */
    function publishPreview(result: FillOutcome): void {
      previewOf(result).then(
        (preview) => RED.comms.publish(previewTopic(node.id), preview, false),
        (error: unknown) => node.warn(localiseError(error, translate).message),
      );
    }
    const inFlight = new Set<Promise<void>>();
    const emulated = configNode?.account instanceof Account && configNode.account.emulated;
    const reporter = new ActivityReporter((activity) => {
      if (!activity) {
        node.status({});
        return;
      }
      const view = statusView(activity, emulated);
      node.status({ fill: view.fill, shape: view.shape, text: RED._(`bfl-fill.status.${view.key}`, view.params) });
    });

    async function handle(
      msg: FillMessage,
      send: (msg: NodeMessage) => void,
      done: (err?: Error) => void,
    ): Promise<void> {
      const job = reporter.track();
      try {
        if (!configNode) throw invalidInput(text('config.noConfig'));
        if (configNode.account instanceof BflError) throw configNode.account;
        const service = await configNode.account.service();
        const inputs = await readInputs(node, config, msg);
        const result = await fill(
          service,
          {
            inputs,
            fallbacks: { prompt: msg.prompt, seed: msg.seed },
            image: msg.payload,
            mask: msg.mask,
          },
          closing.signal,
          (phase) => job.update(phase),
        );
        msg.payload = result.image;
        msg.bfl = result.metadata;
        job.finish({ ok: true });
        send(msg);
        done();
        if (showPreview) publishPreview(result);
      } catch (error) {
        const code = error instanceof BflError ? error.code : 'ERROR';
        job.finish({ ok: false, code });
        // msg.error.message is the error's toString(): the message in the runtime's language.
        done(localiseError(error, translate));
      }
    }

    node.on('input', (msg, send, done) => {
      const running = handle(msg as FillMessage, send, done).catch((error: unknown) => {
        // handle() reports its own failures; this only guards against a throwing send/done.
        node.error(error);
      });
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing.abort();
      // Aborted jobs settle their messages with BFL_CANCELLED at once; the grace period only bounds the wait
      // for image work that cannot be interrupted.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      void Promise.race([Promise.allSettled([...inFlight]), grace]).then(() => {
        clearTimeout(timer);
        reporter.close();
        // An empty preview tells open editors to drop the thumbnail of a node that is gone or redeployed.
        if (showPreview) RED.comms.publish(previewTopic(node.id), null, false);
        done();
      });
    });
  }

  RED.nodes.registerType('bfl-fill', BflFill);
};
