/**
 * Node-RED glue for the `bfl-fill` node: evaluates the node's fields, hands the message's images to the
 * engine (lib/engine/fill), reports progress as status and the outcome through send/done. Everything it
 * decides is in lib/; this file only translates.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeMessage } from 'node-red';
import { BflError, invalidInput } from '../lib/errors';
import { fill, previewOf, type FillOutcome } from '../lib/engine/fill';
import type { RawFillInputs } from '../lib/engine/parameters';
import { StatusReporter, type StatusView } from '../lib/engine/status';
import { text } from '../lib/messages';
import { localiseError, runtimeTranslate } from './i18n';
import type { BflConfigNode } from './types';

/** Fields that may come with a TypedInput `<name>Type` companion. */
const FIELDS = [
  'prompt',
  'steps',
  'guidance',
  'seed',
  'outputFormat',
  'safetyTolerance',
  'promptUpsampling',
  'timeout',
] as const;
/** The image options (lib/fields), with TypedInput companions too. */
const IMAGE_FIELDS = [
  'maskInvert',
  'maskGrow',
  'maskFeather',
  'pasteBack',
  'cropToMask',
  'cropMargin',
  'maxMegapixels',
] as const;
type Field = (typeof FIELDS)[number] | (typeof IMAGE_FIELDS)[number];

/** Editor topic of a node's preview thumbnail; the editor subscribes to `bfl-fill/preview/#`. */
function previewTopic(id: string): string {
  return `bfl-fill/preview/${id}`;
}

/** TypedInput types whose empty value means "not given" rather than "evaluate ''". */
const LITERAL_TYPES = new Set(['str', 'num', 'json', 'bool', 're', 'date']);

/** A TypedInput value as saved in a flow (a string, a number or a boolean) as text; anything else is empty. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

interface BflFillDef extends NodeDef, Partial<Record<Field | `${Field}Type`, unknown>> {
  config?: string;
  preview?: unknown;
}

type FillMessage = NodeMessageInFlow & { mask?: unknown; prompt?: unknown; seed?: unknown; bfl?: unknown };

const CLOSE_GRACE_MS = 10_000;

export = function register(RED: NodeAPI): void {
  const translate = runtimeTranslate(RED);

  function evaluateField(node: Node, value: unknown, type: unknown, msg: NodeMessage): Promise<unknown> {
    // A plain value with no companion type is a literal: hand-written and older flows keep working.
    if (typeof type !== 'string' || type === '') return Promise.resolve(value);
    if (LITERAL_TYPES.has(type) && fieldText(value).trim() === '') {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      RED.util.evaluateNodeProperty(fieldText(value), type, node, msg, (error, result) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
      );
    });
  }

  async function evaluateFields<F extends Field>(
    node: Node,
    config: BflFillDef,
    msg: NodeMessage,
    fields: readonly F[],
  ): Promise<Partial<Record<F, unknown>>> {
    const values: Partial<Record<F, unknown>> = {};
    for (const field of fields) {
      try {
        values[field] = await evaluateField(node, config[field], config[`${field}Type`], msg);
      } catch (error) {
        throw invalidInput(text('parameters.unreadable', { field, reason: (error as Error).message }), error);
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
    const reporter = new StatusReporter(
      (view: StatusView | null) =>
        node.status(
          view ? { fill: view.fill, shape: view.shape, text: RED._(`bfl-fill.status.${view.key}`, view.params) } : {},
        ),
      configNode?.account?.emulated ?? false,
    );

    async function handle(
      msg: FillMessage,
      send: (msg: NodeMessage) => void,
      done: (err?: Error) => void,
    ): Promise<void> {
      const job = reporter.track();
      try {
        if (!configNode) throw invalidInput(text('config.noConfig'));
        if (configNode.accountError) throw configNode.accountError;
        if (!configNode.account) throw invalidInput(text('config.stopped'));
        const service = await configNode.account.service();
        const inputs: RawFillInputs = await evaluateFields(node, config, msg, FIELDS);
        const imageOptions = await evaluateFields(node, config, msg, IMAGE_FIELDS);
        const result = await fill(
          service,
          {
            inputs,
            imageOptions,
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
