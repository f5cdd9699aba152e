/**
 * Node-RED glue for the `bfl-expand` node (outpainting): msg.payload, and msg.expand in place of the node's
 * sides, through the expand road (lib/engine/expand). Everything else a job node does is shared (./job-node).
 */
import type { NodeAPI } from 'node-red';
import { expand } from '../lib/engine/expand';
import { EXPAND_INPUTS } from '../lib/fields';
import { registerJobNode } from './job-node';

export = function register(RED: NodeAPI): void {
  registerJobNode(RED, {
    type: 'bfl-expand',
    inputs: EXPAND_INPUTS,
    run: ({ service, inputs, msg, journal, signal, onPhase }) =>
      expand(
        service,
        { inputs, fallbacks: { prompt: msg.prompt, seed: msg.seed, expand: msg.expand }, image: msg.payload, journal },
        signal,
        onPhase,
      ),
  });
};
