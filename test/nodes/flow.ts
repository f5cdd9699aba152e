/**
 * Builds small test flows around one job node (bfl-fill, or another `type`) with the id `fill`: it -> output helper,
 * Catch -> errors helper.
 */
import type { EventEmitter } from 'node:events';
import * as nodeRedUtil from '@node-red/util';
import helper from 'node-red-node-test-helper';
import bflConfig from '../../nodes/bfl-config';
import bflExpand from '../../nodes/bfl-expand';
import bflFill from '../../nodes/bfl-fill';

export const configNode = bflConfig as (red: unknown) => void;
export const fillNode = bflFill as (red: unknown) => void;
export const expandNode = bflExpand as (red: unknown) => void;

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function flow(fill: Record<string, unknown>, config: Record<string, unknown> | null): FlowNode[] {
  const nodes: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    // Flow nodes need x/y: Node-RED treats nodes without a position as config nodes.
    {
      id: 'fill',
      type: 'bfl-fill',
      z: 'tab',
      x: 100,
      y: 100,
      name: 'fill',
      config: config ? 'cfg' : '',
      wires: [['out']],
      ...fill,
    },
    { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
    { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['errors']] },
    { id: 'errors', type: 'helper', z: 'tab', x: 300, y: 200 },
  ];
  if (config) nodes.push({ id: 'cfg', type: 'bfl-config', name: 'test account', ...config });
  return nodes;
}

/** The test helper's node, loosely typed: its spies emit `call:<method>` events. */
export interface TestNode {
  receive(msg: Record<string, unknown>): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  context(): { flow: { set(key: string, value: unknown): void } };
}

export function node(id: string): TestNode {
  return helper.getNode(id) as unknown as TestNode;
}

/** Node-RED settings for tests; the helper's typings know only the built-in ones. */
export function settings(values: Record<string, unknown>): void {
  helper.settings(values as Parameters<typeof helper.settings>[0]);
}

/** Resolves with the first message at the output helper, or rejects with what reached the Catch. */
export function nextOutput(): Promise<Record<string, unknown>> {
  const out = node('out');
  const errors = node('errors');
  return new Promise((resolve, reject) => {
    out.once('input', (msg: Record<string, unknown>) => resolve(msg));
    errors.once('input', (msg: { error: { code?: string; message: string } }) =>
      reject(Object.assign(new Error(msg.error.message), { code: msg.error.code, msg })),
    );
  });
}

/** Resolves with the first `count` messages at the output helper, in the order they arrived. */
export function nextOutputs(count: number): Promise<Record<string, unknown>[]> {
  const out = node('out');
  const errors = node('errors');
  const seen: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    out.on('input', (msg: Record<string, unknown>) => {
      seen.push(msg);
      if (seen.length === count) resolve(seen);
    });
    errors.once('input', (msg: { error: { code?: string; message: string } }) =>
      reject(Object.assign(new Error(msg.error.message), { code: msg.error.code, msg })),
    );
  });
}

/** Resolves with the message that reached the Catch node. */
export function nextError(): Promise<Record<string, unknown> & { error: { code?: string; message: string } }> {
  const out = node('out');
  const errors = node('errors');
  return new Promise((resolve, reject) => {
    errors.once('input', resolve);
    out.once('input', () => reject(new Error('expected an error, got an output message')));
  });
}

/**
 * Ends a test's flows and tells the runtime's listeners the deploy is over, so jobs still running find no
 * successor and stop at once (a plain unload stops the flows as for a redeploy, and running jobs would wait
 * for a successor).
 */
export async function unloadFlows(): Promise<void> {
  await helper.unload();
  (nodeRedUtil as unknown as { events: EventEmitter }).events.emit('flows:started', {});
}

export { helper };
