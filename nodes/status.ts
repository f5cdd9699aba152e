/**
 * A job activity in Node-RED's status vocabulary: colour, shape, and the catalog key of the text below
 * `bfl-fill.status.`. Plain data, so it is tested without Node-RED.
 */
import type { Activity } from '../lib/engine/activity';

export interface StatusView {
  fill: 'blue' | 'green' | 'red' | 'yellow' | 'grey';
  shape: 'dot' | 'ring';
  key: string;
  params?: Record<string, string | number>;
}

/** `emulated`: the result came from the built-in emulator, which the status says so nobody mistakes it. */
export function statusView(activity: Activity, emulated: boolean): StatusView {
  switch (activity.state) {
    case 'queued':
      return { fill: 'yellow', shape: 'ring', key: 'queued', params: { count: activity.count } };
    case 'active':
      return { fill: 'blue', shape: 'dot', key: 'active', params: { count: activity.count } };
    case 'submitting':
      return { fill: 'blue', shape: 'ring', key: 'submitting' };
    case 'polling':
    case 'waiting':
      return { fill: 'blue', shape: 'dot', key: activity.state, params: { seconds: activity.seconds } };
    case 'progress':
      return { fill: 'blue', shape: 'dot', key: 'progress', params: { percent: activity.percent } };
    case 'downloading':
    case 'composing':
      return { fill: 'blue', shape: 'dot', key: activity.state };
    case 'done':
      return { fill: 'green', shape: 'dot', key: emulated ? 'doneEmulator' : 'done' };
    case 'failed':
      return { fill: 'red', shape: 'ring', key: 'error', params: { code: activity.code } };
  }
}
