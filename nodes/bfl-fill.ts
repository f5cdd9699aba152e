/**
 * Node-RED glue for the `bfl-fill` node: msg.payload and msg.mask through the fill road (lib/engine/fill),
 * with the node's fields as the table lists them. Everything else a job node does is shared (./job-node).
 */
import type { NodeAPI } from 'node-red';
import { fill } from '../lib/engine/fill';
import { FILL_INPUTS } from '../lib/fields';
import { registerJobNode } from './job-node';
import { nodePictures } from './pictures';

export = function register(RED: NodeAPI): void {
  registerJobNode(RED, {
    type: 'bfl-fill',
    inputs: FILL_INPUTS,
    pictures: nodePictures(RED),
    run: ({ service, inputs, msg, journal, signal, onPhase }) =>
      fill(
        service,
        { inputs, fallbacks: { prompt: msg.prompt, seed: msg.seed }, image: msg.payload, mask: msg.mask, journal },
        signal,
        onPhase,
      ),
  });
};
