/**
 * A real Node-RED (red.js) as a child process, on 127.0.0.1, with what it prints kept for the assertions and
 * for the failure report. Readiness and deploys are awaited on the lines Node-RED prints, never on a delay.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';

export const HOST = '127.0.0.1';

/** A port nobody listens on right now (the OS picks it; Node-RED binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json(): unknown;
}

/** One request without keep-alive, so no socket outlives the test; rejects after `timeoutMs`. */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const { method = 'GET', headers = {}, body, timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: data,
          text: () => data.toString('utf8'),
          json: () => JSON.parse(data.toString('utf8')) as unknown,
        });
      });
    });
    req.on('error', (error) =>
      reject(error.name === 'AbortError' ? new Error(`${method} ${url}: no answer within ${timeoutMs} ms`) : error),
    );
    req.end(body);
  });
}

export interface NodeRedProcess {
  /** e.g. http://127.0.0.1:41234 (admin and http-in both at the root) */
  readonly url: string;
  /** Everything Node-RED printed so far (stdout and stderr interleaved). */
  output(): string;
  /**
   * Resolves once `pattern` appears in the output after character `from`; rejects if `failOn` appears there
   * first, if Node-RED exits, or after `timeoutMs`.
   */
  waitFor(pattern: RegExp, options: { from?: number; failOn?: RegExp; timeoutMs?: number }): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash or a power cut would end it; resolves when the process is gone. */
  kill(): Promise<void>;
  /** The process id of the Node-RED child (for /proc/<pid>/status); undefined if it could not be started. */
  readonly pid: number | undefined;
}

export interface StartOptions {
  redJs: string;
  /** The node binary that runs red.js (default: the one running this process). */
  node?: string;
  userDir: string;
  settingsFile: string;
  /** Must match the uiPort in the settings file. */
  port: number;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const READY = [/Server now running at (http:\/\/\S+)/, /Started flows/];
const STARTUP_FAILURE =
  /Failed to start server|Unable to listen|port-in-use|Error loading settings file|Uncaught Exception/i;

export async function startNodeRedProcess(options: StartOptions): Promise<NodeRedProcess> {
  const {
    redJs,
    node = process.execPath,
    userDir,
    settingsFile,
    port,
    env = process.env,
    timeoutMs = 60_000,
  } = options;
  const child: ChildProcess = spawn(node, [redJs, '--userDir', userDir, '--settings', settingsFile], {
    cwd: userDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let exited: string | undefined;
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((listener) => listener());
  const collect = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    changed();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      changed();
      resolve();
    });
    child.once('error', (error) => {
      exited = `could not be started: ${error.message}`;
      changed();
      resolve();
    });
  });

  const waitFor: NodeRedProcess['waitFor'] = (pattern, { from = 0, failOn, timeoutMs: limit = 30_000 }) =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        const seen = text.slice(from);
        if (pattern.test(seen)) finish();
        else if (failOn?.test(seen))
          finish(new Error(`Node-RED printed ${String(failOn)} while waiting for ${String(pattern)}`));
        else if (exited) finish(new Error(`Node-RED ${exited} while waiting for ${String(pattern)}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`Node-RED did not print ${String(pattern)} within ${limit} ms`)),
        limit,
      );
      listeners.add(check);
      check();
    });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 15_000);
      });
      await Promise.race([gone, forced]);
      clearTimeout(timer);
      await gone;
    })();
    return stopping;
  };

  try {
    await Promise.all(READY.map((pattern) => waitFor(pattern, { failOn: STARTUP_FAILURE, timeoutMs })));
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- Node-RED output ---\n${text}`);
  }
  const announced = READY[0]!.exec(text)?.[1] ?? '';
  const url = `http://${HOST}:${port}`;
  if (!announced.startsWith(`${url}/`)) {
    await stop();
    throw new Error(`Node-RED announced ${announced}, expected ${url}\n--- Node-RED output ---\n${text}`);
  }
  const kill = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL');
    await gone;
  };
  return { url, output: () => text, waitFor, stop, kill, pid: child.pid };
}
