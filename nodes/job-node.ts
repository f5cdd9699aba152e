/**
 * The Node-RED glue every job node shares (bfl-fill, bfl-expand): it evaluates the node's TypedInput fields for
 * a message, runs the node's road in the engine, reports progress as status and the outcome through send/done,
 * hands jobs to its successor on a redeploy and resumes the journal's jobs after a restart. A node module says
 * only which fields it reads and which road a message takes.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { BflError, cancelledError, invalidInput } from '../lib/errors';
import { ActivityReporter } from '../lib/engine/activity';
import { Account } from '../lib/engine/account';
import { inputThumbnailOf, previewOf, resumeFill, type JobJournal } from '../lib/engine/fill';
import { Handover } from '../lib/engine/handover';
import { jsonSafeProperties, type JournalEntry } from '../lib/engine/journal';
import { NodeJob, type JobOwner } from '../lib/engine/node-job';
import type { PhaseListener } from '../lib/engine/phases';
import type { FillResult, FillService } from '../lib/engine/service';
import { fieldSource } from '../lib/fields';
import { isExpandGeometry, type JobGeometry } from '../lib/image';
import { render, text } from '../lib/messages';
import { FILL_NAMESPACE, localiseError, runtimeTranslate } from './i18n';
import type { NodePictures } from './pictures';
import { statusView } from './status';
import type { BflConfigNode } from './types';

export type JobMessage = NodeMessageInFlow & Record<string, unknown> & { bfl?: unknown };

/** What one message's road gets from the glue. */
export interface JobContext {
  service: FillService;
  /** The node's input fields for this message, evaluated. */
  inputs: Record<string, unknown>;
  msg: JobMessage;
  journal: JobJournal | undefined;
  signal: AbortSignal;
  onPhase: PhaseListener;
}

export interface JobNodeSpec {
  type: 'bfl-fill' | 'bfl-expand';
  /** The fields evaluated for each message (TypedInputs through RED.util). */
  inputs: readonly string[];
  run(context: JobContext): Promise<FillResult & { geometry: JobGeometry }>;
  /** Where the editor finds the node's last preview and input (the mask painter's background); none: no pictures. */
  pictures?: NodePictures;
}

type JobNodeDef = NodeDef & Record<string, unknown> & { config?: string; preview?: unknown };

/** What a result's preview is drawn from; a job resumed without its original image has no geometry. */
interface PreviewSource {
  image: Buffer;
  geometry: JobGeometry | undefined;
}

type JobOfNode = NodeJob<JobMessage, PreviewSource>;

/** What a node closing for a redeploy leaves its successor: a job under way, or a message not yet submitted. */
type Handed = { kind: 'job' | 'requeue'; job: JobOfNode };

/**
 * One handover per runtime, shared by every job node (node ids are unique across types): Node-RED calls a node
 * module's register once, but a test helper calls it for every flow it loads, and each would add a listener.
 */
const handovers = new WeakMap<object, Handover<Handed>>();

const CLOSE_GRACE_MS = 10_000;

function handoverOf(RED: NodeAPI, translate: ReturnType<typeof runtimeTranslate>): Handover<Handed> {
  const existing = handovers.get(RED.events);
  if (existing) return existing;
  // Jobs of nodes closed for a redeploy, waiting for their successor; what no node takes once the deploy has
  // finished belonged to a node that was deleted or disabled.
  const handover = new Handover<Handed>((nodeId, items) => {
    for (const { kind, job } of items) {
      if (kind === 'requeue') {
        // Never submitted, and no node took it: its message fails as cancelled, as before durable jobs.
        RED.log.warn(render(text('journal.dropped', { nodeId }), translate));
        job.fail(cancelledError(), 'BFL_CANCELLED');
        continue;
      }
      const waiting = job.waiting;
      if (waiting?.ok) {
        const metadata = waiting.msg.bfl as { id: string; sampleUrl: string } | undefined;
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
  handovers.set(RED.events, handover);
  RED.events.on('flows:started', () => handover.settle());
  return handover;
}

export function registerJobNode(RED: NodeAPI, spec: JobNodeSpec): void {
  const translate = runtimeTranslate(RED);
  const handover = handoverOf(RED, translate);
  // bfl-fill's own catalog holds the status vocabulary; other job nodes reach it through its namespace.
  const statusKey = spec.type === 'bfl-fill' ? 'bfl-fill.status.' : `${FILL_NAMESPACE}:bfl-fill.status.`;

  function evaluate(node: Node, source: { value: string; type: string }, msg: NodeMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      RED.util.evaluateNodeProperty(source.value, source.type, node, msg, (error, result) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
      );
    });
  }

  /** Every input field's value for this message, read from msg, context or env where its TypedInput says so. */
  async function readInputs(node: Node, config: JobNodeDef, msg: NodeMessage): Promise<Record<string, unknown>> {
    const values: Record<string, unknown> = {};
    for (const field of spec.inputs) {
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

  function JobNode(this: Node, config: JobNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const configNode = config.config ? (RED.nodes.getNode(config.config) as BflConfigNode | null) : null;
    const account = configNode?.account instanceof Account ? configNode.account : undefined;
    const showPreview = config.preview === true || config.preview === 'true';
    const jobs = new Set<JobOfNode>();
    const inFlight = new Set<Promise<void>>();

    /**
     * The pictures editors show: the input as the mask painter's background (one thumbnail at a time), then
     * the preview under the node when "preview" is on. A picture that fails only costs a warning, never the
     * message.
     */
    let thumbnailing = false;
    async function refreshPictures(pictures: NodePictures, image: Buffer, geometry: JobGeometry): Promise<void> {
      if (!thumbnailing && !isExpandGeometry(geometry)) {
        thumbnailing = true;
        try {
          pictures.keepInput(node.id, await inputThumbnailOf(geometry));
        } finally {
          thumbnailing = false;
        }
      }
      if (!showPreview) return;
      const preview = await previewOf({ image, geometry });
      if (preview) pictures.showPreview(node.id, preview);
    }
    function publishPictures(result: PreviewSource): void {
      const { pictures } = spec;
      if (!pictures || !result.geometry) return;
      refreshPictures(pictures, result.image, result.geometry).catch((error: unknown) =>
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
      node.status({ fill: view.fill, shape: view.shape, text: RED._(`${statusKey}${view.key}`, view.params) });
    });

    /** This node as the owner of a job it adopted: it sends the result on and reports failures to Catch. */
    const successorOwner: JobOwner<JobMessage, PreviewSource> = {
      reporter,
      deliver: (msg, result) => {
        node.send(msg);
        publishPictures(result);
      },
      fail: (error, msg) => node.error(localiseError(error, translate), msg),
    };

    function track(job: JobOfNode, running: Promise<void>): void {
      jobs.add(job);
      const guarded = running
        .catch((error: unknown) => node.error(error))
        .finally(() => {
          jobs.delete(job);
          inFlight.delete(guarded);
        });
      inFlight.add(guarded);
    }

    async function handle(job: JobOfNode): Promise<void> {
      const { msg } = job;
      // The message as it came, for the journal: a restart sends the result with these properties.
      const atInput = account?.journal ? jsonSafeProperties(msg) : {};
      try {
        if (!configNode) throw invalidInput(text('config.noConfig'));
        if (configNode.account instanceof BflError) throw configNode.account;
        const service = await configNode.account.service();
        const inputs = await readInputs(node, config, msg);
        const journal = configNode.account.journal;
        const result = await spec.run({
          service,
          inputs,
          msg,
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
          signal: job.signal,
          onPhase: job.update,
        });
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
      const job: JobOfNode = new NodeJob(msg as JobMessage, {
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
        const msg = { ...entry.msg } as JobMessage;
        const job: JobOfNode = new NodeJob(msg, successorOwner);
        job.update({ phase: 'polling', taskId, startedAt: entry.submittedAt ?? entry.createdAt, progress: undefined });
        track(job, resume(job, entry));
      }
    }

    async function resume(job: JobOfNode, entry: JournalEntry): Promise<void> {
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
        if (showPreview) spec.pictures?.clearPreview(node.id);
        if (removed) spec.pictures?.dropInput(node.id);
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

  RED.nodes.registerType(spec.type, JobNode);
}
