/**
 * Faults tests inject (an HTTP status or a dropped connection) in place of an endpoint's answer, first in first out
 * per target; a fault with count n answers the next n requests of its target.
 */
import { statusText, type Exchange } from './http';
import type { Fault, FaultTarget } from './types';

export class FaultQueue {
  private readonly queues = new Map<FaultTarget, { fault: Fault; left: number }[]>();

  inject(fault: Fault): void {
    const count = fault.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError('fault count must be a positive integer');
    if (fault.status !== 'drop' && (!Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599)) {
      throw new RangeError(`fault status must be an HTTP status or 'drop', got ${String(fault.status)}`);
    }
    const queue = this.queues.get(fault.target) ?? [];
    queue.push({ fault: { ...fault }, left: count });
    this.queues.set(fault.target, queue);
  }

  /** The fault that answers this request, if any; consumes one use of it. */
  take(target: FaultTarget): Fault | undefined {
    const queue = this.queues.get(target);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.left -= 1;
    if (head.left <= 0) queue.shift();
    return head.fault;
  }

  /** Answers the request with the fault queued for its target, if there is one; true when it did. */
  answer(target: FaultTarget, ex: Exchange): boolean {
    const fault = this.take(target);
    if (!fault) return false;
    if (fault.status === 'drop') ex.drop();
    else {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      ex.json(fault.status, { detail: statusText(fault.status) }, headers);
    }
    return true;
  }

  clear(): void {
    this.queues.clear();
  }
}
