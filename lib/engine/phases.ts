/** Where one job is on its road; the node turns the current phases of its jobs into a status. */
export type JobPhase =
  | { phase: 'preparing' }
  | { phase: 'queued' }
  | { phase: 'submitting' }
  | {
      phase: 'polling';
      taskId: string;
      startedAt: number;
      progress: number | undefined;
      /** Waiting for the task's webhook: nothing is polled (yet). */
      webhook?: boolean;
    }
  | { phase: 'downloading'; taskId: string }
  | { phase: 'composing'; taskId: string };

export type PhaseListener = (phase: JobPhase) => void;
