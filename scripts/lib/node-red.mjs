/**
 * Node-RED embedded in this process, for `npm run demo` and `npm start`: an http server on 127.0.0.1 with the
 * editor/admin API and the flows' http endpoints, and this repository installed as a package the way a user's
 * Node-RED finds one (a symlink <userDir>/node_modules/@fluxfill/node-red-bfl -> the repo root, so the built
 * dist/ with its editor files, catalogs and icons is what loads).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
export const packageName = packageJson.name;

const require = createRequire(import.meta.url);

/** Rejects with a clear message when `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Makes the repository loadable as an installed package of `userDir` (a symlink, replaced if present) and
 * gives the userDir the package.json Node-RED expects there.
 */
export function linkPackage(userDir) {
  const manifest = join(userDir, 'package.json');
  if (!existsSync(manifest)) {
    const userPackage = {
      name: 'node-red-project',
      description: 'Node-RED user dir for @fluxfill/node-red-bfl',
      version: '0.0.1',
      private: true,
    };
    writeFileSync(manifest, `${JSON.stringify(userPackage, null, 2)}\n`);
  }
  const link = join(userDir, 'node_modules', ...packageName.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  let existing;
  try {
    existing = lstatSync(link);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (!existing.isSymbolicLink()) {
      throw new Error(`${link} is a real folder, not the link to this repository: remove it and try again`);
    }
    unlinkSync(link);
  }
  symlinkSync(repoRoot, link, 'dir');
  return link;
}

/**
 * A Node-RED storage module that keeps flows, credentials and runtime settings in memory: nothing of a run
 * (least of all an API key given as a credential) is written to disk. The library is empty and read-only.
 * `credentialSecret` must be the runtime's: the (empty) credentials it starts with are encrypted with it, as
 * Node-RED expects, so that it does not warn about them.
 */
export function memoryStorage({ credentialSecret }) {
  let flows = [];
  let credentials = encryptedNothing(credentialSecret);
  let settings = {};
  let sessions = {};
  const clone = (value) => JSON.parse(JSON.stringify(value));
  return {
    init: async () => {},
    getFlows: async () => clone(flows),
    saveFlows: async (value) => {
      flows = clone(value);
    },
    getCredentials: async () => clone(credentials),
    saveCredentials: async (value) => {
      credentials = clone(value);
    },
    getSettings: async () => clone(settings),
    saveSettings: async (value) => {
      settings = clone(value);
    },
    getSessions: async () => clone(sessions),
    saveSessions: async (value) => {
      sessions = clone(value);
    },
    getLibraryEntry: async (_type, path) => (path === '' || path.endsWith('/') ? [] : ''),
    saveLibraryEntry: async () => {
      throw new Error('the demo has no library');
    },
  };
}

/** An empty credential set in Node-RED's encrypted form (aes-256-ctr, key sha256(secret), "$": iv hex + base64). */
function encryptedNothing(secret) {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(secret).digest(), iv);
  return { $: iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64') };
}

const LEVEL_NAMES = {
  10: 'fatal',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'trace',
  98: 'audit',
  99: 'metric',
};

/**
 * A Node-RED `logging` entry that passes every line through `redact` before printing it with `print`, in
 * Node-RED's own "[level] [type:name] message" shape.
 */
export function redactingLogger({ level, print, redact }) {
  return {
    level,
    metrics: false,
    audit: false,
    handler: () => (entry) => {
      const where = entry.type ? `[${entry.type}:${entry.name || entry.id}] ` : '';
      const text = entry.msg instanceof Error ? (entry.msg.stack ?? entry.msg.message) : String(entry.msg);
      print(redact(`[${LEVEL_NAMES[entry.level] ?? entry.level}] ${where}${text}`));
    },
  };
}

/**
 * Resolves at the next 'flows:started' of this runtime; rejects when Node-RED reports that it cannot start
 * the flows (missing node types, missing modules, safe mode) or after `timeoutMs`.
 */
export function nextFlowsStart(RED, timeoutMs) {
  const events = RED.runtime.events;
  let onStarted;
  let onRuntimeEvent;
  const started = new Promise((resolve, reject) => {
    onStarted = () => resolve();
    onRuntimeEvent = (event) => {
      if (event?.id !== 'runtime-state' || !event.payload?.error) return;
      const { error, types, modules } = event.payload;
      const detail = types ? `: ${types.join(', ')}` : modules ? `: ${modules.map((m) => m.module).join(', ')}` : '';
      reject(new Error(`Node-RED did not start the flows (${error}${detail})`));
    };
    events.on('flows:started', onStarted);
    events.on('runtime-event', onRuntimeEvent);
  });
  return withTimeout(started, timeoutMs, 'Node-RED starting the flows').finally(() => {
    events.off('flows:started', onStarted);
    events.off('runtime-event', onRuntimeEvent);
  });
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (error) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${HOST} is already in use: set PORT to a free port`));
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, HOST);
  });
}

/**
 * Starts Node-RED on http://127.0.0.1:<port> (0: any free port) with `userDir`, and waits until its flows have
 * started. `settings` are merged over safe defaults: no telemetry, no update check, no module installs.
 * Returns { RED, url, port, deploy(flows), stop() }; stop() always resolves and may be called more than once.
 */
export async function startNodeRed({ userDir, port = 0, settings = {}, startTimeoutMs = 30_000 }) {
  const RED = require('node-red');
  const express = createRequire(require.resolve('node-red'))('express');
  const app = express();
  const server = http.createServer(app);
  const fullSettings = {
    userDir,
    uiHost: HOST,
    uiPort: port,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    functionExternalModules: false,
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    ...settings,
  };
  RED.init(server, fullSettings);
  if (fullSettings.httpAdminRoot !== false) app.use(fullSettings.httpAdminRoot, RED.httpAdmin);
  if (fullSettings.httpNodeRoot !== false) app.use(fullSettings.httpNodeRoot, RED.httpNode);

  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      await withTimeout(RED.stop(), 20_000, 'Node-RED stopping').catch((error) => {
        process.stderr.write(`warning: ${error.message}\n`);
      });
      server.closeAllConnections();
      await new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    })();
    return stopped;
  };

  try {
    const boundPort = await listen(server, port);
    const firstStart = nextFlowsStart(RED, startTimeoutMs);
    await withTimeout(RED.start(), startTimeoutMs, 'Node-RED starting');
    await firstStart;
    return {
      RED,
      port: boundPort,
      url: `http://${HOST}:${boundPort}`,
      /** A full deploy through the runtime API, as the editor's Deploy button does; resolves once started. */
      async deploy(flows, timeoutMs = startTimeoutMs) {
        const started = nextFlowsStart(RED, timeoutMs);
        await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
        await started;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The version of the Node-RED package that startNodeRed() runs. */
export function nodeRedVersion() {
  return require('node-red/package.json').version;
}

/** The node sets Node-RED loaded from this package, with any load error; throws if there are none. */
export async function loadedNodeSets(RED) {
  const list = await RED.runtime.nodes.getNodeList({});
  const ours = list.filter((set) => set.module === packageName);
  if (ours.length === 0) {
    throw new Error(
      `Node-RED did not find ${packageName} in its userDir/node_modules (is package.json "node-red" set?)`,
    );
  }
  return ours;
}

/**
 * One HTTP request to this machine (no keep-alive), answered within `timeoutMs`.
 * Resolves { status, headers, body: Buffer }.
 */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (error) =>
      reject(
        error.name === 'AbortError'
          ? new Error(`${method} ${url} got no answer within ${Math.round(timeoutMs / 1000)} s`)
          : error,
      ),
    );
    req.end(body);
  });
}
