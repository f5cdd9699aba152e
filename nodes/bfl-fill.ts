/**
 * Node-RED glue for the `bfl-fill` node: evaluates the node's fields, hands the message's images to the
 * engine (lib/engine/fill), reports progress as status and the outcome through send/done. Everything it
 * decides is in lib/; this file only translates.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeMessage } from 'node-red';
import { BflError, cancelledError, invalidInput } from '../lib/errors';
import { Account } from '../lib/engine/account';
import { fill, inputThumbnailOf, previewOf, resumeFill } from '../lib/engine/fill';
import { Handover } from '../lib/engine/handover';
import { jsonSafeProperties, type JournalEntry } from '../lib/engine/journal';
import { NodeJob, type JobOwner } from '../lib/engine/node-job';
import type { FillGeometry } from '../lib/image';
import { FILL_INPUTS, fieldSource, type FillInputName, type RawFillInputs } from '../lib/fields';
import { ActivityReporter } from '../lib/engine/activity';
import { render, text } from '../lib/messages';
import { localiseError, runtimeTranslate } from './i18n';
import { nodePictures } from './pictures';
import { statusView } from './status';
import type { BflConfigNode } from './types';

interface BflFillDef extends NodeDef, Partial<Record<FillInputName | `${FillInputName}Type`, unknown>> {
  config?: string;
  preview?: unknown;
}

type FillMessage = NodeMessageInFlow & { mask?: unknown; prompt?: unknown; seed?: unknown; bfl?: unknown };

/** What a result's preview is drawn from; a job resumed without its original image has no geometry. */
interface PreviewSource {
  image: Buffer;
  geometry: FillGeometry | undefined;
}

type FillJobOfNode = NodeJob<FillMessage, PreviewSource>;

/** What a node closing for a redeploy leaves its successor: a job under way, or a message not yet submitted. */
type Handed = { kind: 'job' | 'requeue'; job: FillJobOfNode };

/**
 * One handover per runtime: Node-RED calls a node module's register once, but a test helper calls it for every
 * flow it loads, and each would add a listener to the runtime's events.
 */
const handovers = new WeakMap<object, Handover<Handed>>();

const CLOSE_GRACE_MS = 10_000;

export = function register(RED: NodeAPI): void {
  const translate = runtimeTranslate(RED);
  const pictures = nodePictures(RED);

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

  /**
   * Jobs of nodes closed for a redeploy, waiting for their successor; what no node takes once the deploy has
   * finished belonged to a node that was deleted or disabled.
   */
  const handover =
    handovers.get(RED.events) ??
    new Handover<Handed>((nodeId, items) => {
      for (const { kind, job } of items) {
        if (kind === 'requeue') {
          // Never submitted, and no node took it: its message fails as cancelled, as before durable jobs.
          RED.log.warn(render(text('journal.dropped', { nodeId }), translate));
          job.fail(cancelledError(), 'BFL_CANCELLED');
          continue;
        }
        const waiting = job.waiting;
        if (waiting?.ok) {
          const metadata = (waiting.msg as FillMessage).bfl as { id: string; sampleUrl: string } | undefined;
          RED.log.warn(
            render(
              text('journal.lost', { nodeId, taskId: metadata?.id ?? '', sampleUrl: metadata?.sampleUrl ?? '' }),
              translate,
            ),
          );
        } else if (!waiting) {
          RED.log.warn(render(text('journal.stopped', { taskId: job.taskId ?? '' }), translate));
        }
        job.abandon();
      }
    });
  if (!handovers.has(RED.events)) {
    handovers.set(RED.events, handover);
    RED.events.on('flows:started', () => handover.settle());
  }

  function BflFill(this: Node, config: BflFillDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const configNode = config.config ? (RED.nodes.getNode(config.config) as BflConfigNode | null) : null;
    const account = configNode?.account instanceof Account ? configNode.account : undefined;
    const showPreview = config.preview === true || config.preview === 'true';
    const jobs = new Set<FillJobOfNode>();
    const inFlight = new Set<Promise<void>>();

    /**
     * The pictures editors show: the input as the mask painter's background (one thumbnail at a time), then
     * the preview under the node when "preview" is on. A picture that fails only costs a warning, never the
     * message.
     */
    let thumbnailing = false;
    async function refreshPictures(image: Buffer, geometry: FillGeometry): Promise<void> {
      if (!thumbnailing) {
        thumbnailing = true;
        try {
          pictures.keepInput(node.id, await inputThumbnailOf(geometry));
        } finally {
          thumbnailing = false;
        }
      }
      if (showPreview) pictures.showPreview(node.id, await previewOf({ image, geometry }));
    }
    function publishPictures(result: PreviewSource): void {
      if (!result.geometry) return;
      refreshPictures(result.image, result.geometry).catch((error: unknown) =>
        node.warn(localiseError(error, translate).message),
      );
    }
    const emulated = account?.emulated ?? false;
    const reporter = new ActivityReporter((activity) => {
      if (!activity) {
        node.status({});
        return;
      }
      const view = statusView(activity, emulated);
      node.status({ fill: view.fill, shape: view.shape, text: RED._(`bfl-fill.status.${view.key}`, view.params) });
    });

    /** This node as the owner of a job it adopted: it sends the result on and reports failures to Catch. */
    const successorOwner: JobOwner<FillMessage, PreviewSource> = {
      reporter,
      deliver: (msg, result) => {
        node.send(msg);
        publishPictures(result);
      },
      fail: (error, msg) => node.error(localiseError(error, translate), msg),
    };

    function track(job: FillJobOfNode, running: Promise<void>): void {
      jobs.add(job);
      const guarded = running
        .catch((error: unknown) => node.error(error))
        .finally(() => {
          jobs.delete(job);
          inFlight.delete(guarded);
        });
      inFlight.add(guarded);
    }

    async function handle(job: FillJobOfNode): Promise<void> {
      const { msg } = job;
      // The message as it came, for the journal: a restart sends the result with these properties.
      const atInput = account?.journal ? jsonSafeProperties(msg as Record<string, unknown>) : {};
      try {
        if (!configNode) throw invalidInput(text('config.noConfig'));
        if (configNode.account instanceof BflError) throw configNode.account;
        const service = await configNode.account.service();
        const inputs = await readInputs(node, config, msg);
        const journal = configNode.account.journal;
        const result = await fill(
          service,
          {
            inputs,
            fallbacks: { prompt: msg.prompt, seed: msg.seed },
            image: msg.payload,
            mask: msg.mask,
            journal: journal && {
              begin: (settings, geometry) =>
                journal.begin({
                  nodeId: node.id,
                  parameters: settings.parameters,
                  timeoutMs: settings.timeoutMs,
                  msg: atInput,
                  geometry,
                }),
            },
          },
          job.signal,
          job.update,
        );
        msg.payload = result.image;
        msg.bfl = result.metadata;
        job.succeed(msg, result);
      } catch (error) {
        if (job.requeued) {
          handover.give(node.id, { kind: 'requeue', job });
          return;
        }
        job.fail(error, error instanceof BflError ? error.code : 'ERROR');
      }
    }

    node.on('input', (msg, send, done) => {
      const job: FillJobOfNode = new NodeJob(msg as FillMessage, {
        reporter,
        deliver: (out, result) => {
          send(out);
          done();
          publishPictures(result);
        },
        // msg.error.message is the error's toString(): the message in the runtime's language.
        fail: (error) => done(localiseError(error, translate)),
      });
      track(job, handle(job));
    });

    /** The jobs a previous process left this node: each task is followed to its result and sent on. */
    async function resumeAll(): Promise<void> {
      if (!account?.journal) return;
      const journal = account.journal;
      for (const entry of await account.journalFor(node.id)) {
        const taskId = entry.task?.id ?? '';
        if (entry.state !== 'submitted' || !entry.task) {
          await journal.drop(entry);
          node.warn(render(text('journal.unknownTask'), translate));
          continue;
        }
        if (entry.keyFingerprint !== journal.keyFingerprint) {
          await journal.drop(entry);
          node.warn(render(text('journal.keyChanged', { taskId }), translate));
          continue;
        }
        journal.hold(entry);
        const msg = { ...entry.msg } as FillMessage;
        const job: FillJobOfNode = new NodeJob(msg, successorOwner);
        job.update({ phase: 'polling', taskId, startedAt: entry.submittedAt ?? entry.createdAt, progress: undefined });
        track(job, resume(job, entry));
      }
    }

    async function resume(job: FillJobOfNode, entry: JournalEntry): Promise<void> {
      const journal = account!.journal!;
      const taskId = entry.task!.id;
      try {
        const loaded = await journal.load(entry);
        if (!loaded.geometry && entry.overCap) node.warn(render(text('journal.overCap', { taskId }), translate));
        const service = await account!.service();
        const result = await resumeFill(service, loaded, entry.timeoutMs, job.signal, job.update);
        await journal.drop(entry);
        const msg = job.msg;
        msg.payload = result.image;
        msg.bfl = { ...result.metadata, resumed: true };
        job.succeed(msg, result);
      } catch (error) {
        await journal.drop(entry);
        if (error instanceof BflError && error.code === 'BFL_TASK_NOT_FOUND') {
          node.warn(
            render(text('journal.notFound', { taskId, reason: localiseError(error, translate).message }), translate),
          );
          job.fail(error, error.code);
          return;
        }
        job.fail(error, error instanceof BflError ? error.code : 'ERROR');
      }
    }
    resumeAll().catch((error: unknown) => node.warn(localiseError(error, translate).message));

    node.on('close', (removed: boolean, done: () => void) => {
      unregister();
      const handOver = !removed && account?.settings.resumeJobs === true;
      for (const job of jobs) {
        if (!handOver) {
          if (job.submitted && job.taskId)
            node.warn(render(text('journal.stopped', { taskId: job.taskId }), translate));
          job.controller.abort();
        } else if (!job.submitted) {
          job.requeued = true;
          job.controller.abort();
        } else {
          job.release();
          handover.give(node.id, { kind: 'job', job });
        }
      }
      jobs.clear();
      // Aborted jobs settle their messages with BFL_CANCELLED at once; the grace period only bounds the wait
      // for image work that cannot be interrupted. Jobs handed over go on, owned by the successor.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, handOver ? 0 : CLOSE_GRACE_MS);
      });
      void Promise.race([Promise.allSettled(handOver ? [] : [...inFlight]), grace]).then(() => {
        clearTimeout(timer);
        reporter.close();
        // The preview was this node's result: open editors drop it. The input stays the painter's background
        // for the node that replaces it, unless the node is gone.
        if (showPreview) pictures.clearPreview(node.id);
        if (removed) pictures.dropInput(node.id);
        done();
      });
    });
    // Last: adopting a waiting message runs it through this node's input handler at once.
    const unregister = handover.register(node.id, {
      adopt: (item) => {
        if (item.kind === 'requeue') {
          // Not submitted yet: it follows this node's settings, as a message that arrives now.
          node.receive(item.job.msg);
          return;
        }
        jobs.add(item.job);
        item.job.adopt(successorOwner);
      },
    });
  }

  RED.nodes.registerType('bfl-fill', BflFill);
};
