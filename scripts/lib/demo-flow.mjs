/**
 * The demo's flow, built only from core nodes and ours:
 *
 *   trigger -> read mask file -> move payload to msg.mask -> read image file -> bfl fill -> write result file -> ...
 *   catch (every node of the tab) -> ...
 *
 * With trigger 'http' the flow starts at `http in` (POST <endpoint>) and ends in `http response`: the answer is
 * msg.bfl as JSON (200), or { code, message, source } from the Catch (500). That is how `npm run demo` runs it
 * and learns that it has finished. With trigger 'inject' (for `npm start` when examples/ has no flow) an inject
 * node starts it and debug nodes show msg.bfl and the error.
 */

const ids = {
  tab: 'bf1de0000000000a',
  config: 'bf1de0000000000c',
  trigger: 'bf1de00000000001',
  readMask: 'bf1de00000000002',
  moveMask: 'bf1de00000000003',
  readImage: 'bf1de00000000004',
  fill: 'bf1de00000000005',
  writeResult: 'bf1de00000000006',
  toDetails: 'bf1de00000000007',
  done: 'bf1de00000000008',
  catch: 'bf1de00000000009',
  toError: 'bf1de0000000000b',
  failed: 'bf1de0000000000d',
};

export const DEMO_CONFIG_ID = ids.config;

/** The file extension a result in `outputFormat` gets. */
export function extensionFor(outputFormat) {
  return outputFormat === 'jpeg' ? 'jpg' : outputFormat;
}

/**
 * @param {object} options
 * @param {string} options.imagePath absolute path of the picture
 * @param {string} options.maskPath absolute path of the mask (white fills, black keeps)
 * @param {string} options.outputPath absolute path the result is written to
 * @param {string} options.prompt
 * @param {'emulator'|'global'|'eu'|'us'|'custom'} options.region
 * @param {string} [options.baseUrl] for region 'custom'
 * @param {string} [options.apiKey] becomes the config node's apiKey credential (deployed, never saved in a file)
 * @param {'jpeg'|'png'|'webp'} [options.outputFormat]
 * @param {number} [options.timeoutSeconds] the fill node's job timeout
 * @param {'http'|'inject'} [options.trigger]
 * @param {string} [options.endpoint] the http in path, for trigger 'http'
 */
export function demoFlow({
  imagePath,
  maskPath,
  outputPath,
  prompt,
  region,
  baseUrl = '',
  apiKey,
  outputFormat = 'jpeg',
  timeoutSeconds = 300,
  trigger = 'http',
  endpoint = '/bfl-demo',
}) {
  const z = ids.tab;
  const row = (n) => 80 + n * 60;
  const config = {
    id: ids.config,
    type: 'bfl-config',
    name: region === 'emulator' ? 'BFL emulator' : `BFL ${region}`,
    region,
    baseUrl,
    maxConcurrent: 24,
  };
  if (apiKey) config.credentials = { apiKey };

  const start =
    trigger === 'http'
      ? {
          id: ids.trigger,
          type: 'http in',
          z,
          name: 'run the demo',
          url: endpoint,
          method: 'post',
          upload: false,
          swaggerDoc: '',
        }
      : {
          id: ids.trigger,
          type: 'inject',
          z,
          name: 'run the demo',
          props: [],
          repeat: '',
          crontab: '',
          once: false,
          onceDelay: 0.1,
          topic: '',
        };
  const finish =
    trigger === 'http'
      ? { id: ids.done, type: 'http response', z, name: 'answer msg.bfl', statusCode: '', headers: {} }
      : {
          id: ids.done,
          type: 'debug',
          z,
          name: 'msg.bfl',
          active: true,
          tosidebar: true,
          console: false,
          tostatus: false,
          complete: 'payload',
          targetType: 'msg',
        };
  const failed =
    trigger === 'http'
      ? { id: ids.failed, type: 'http response', z, name: 'answer the error', statusCode: '', headers: {} }
      : {
          id: ids.failed,
          type: 'debug',
          z,
          name: 'error',
          active: true,
          tosidebar: true,
          console: false,
          tostatus: true,
          complete: 'payload',
          targetType: 'msg',
          statusVal: 'payload.code',
          statusType: 'msg',
        };
  const readFile = (id, name, filename, next) => ({
    id,
    type: 'file in',
    z,
    name,
    filename,
    filenameType: 'str',
    format: '',
    chunk: false,
    sendError: false,
    encoding: 'none',
    allProps: false,
    wires: [[next]],
  });

  return [
    { id: ids.tab, type: 'tab', label: 'BFL fill demo', disabled: false, info: 'Made by scripts/demo.mjs.' },
    { ...start, x: 130, y: row(0), wires: [[ids.readMask]] },
    { ...readFile(ids.readMask, 'read the mask', maskPath, ids.moveMask), x: 330, y: row(0) },
    {
      id: ids.moveMask,
      type: 'change',
      z,
      name: 'payload -> mask',
      rules: [{ t: 'move', p: 'payload', pt: 'msg', to: 'mask', tot: 'msg' }],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 530,
      y: row(0),
      wires: [[ids.readImage]],
    },
    { ...readFile(ids.readImage, 'read the picture', imagePath, ids.fill), x: 730, y: row(0) },
    {
      id: ids.fill,
      type: 'bfl-fill',
      z,
      name: 'inpaint',
      config: ids.config,
      prompt,
      promptType: 'str',
      steps: 50,
      stepsType: 'num',
      guidance: 60,
      guidanceType: 'num',
      seed: '',
      seedType: 'num',
      outputFormat,
      safetyTolerance: 2,
      promptUpsampling: false,
      timeout: timeoutSeconds,
      x: 330,
      y: row(1),
      wires: [[ids.writeResult]],
    },
    {
      id: ids.writeResult,
      type: 'file',
      z,
      name: 'write the result',
      filename: outputPath,
      filenameType: 'str',
      appendNewline: false,
      createDir: true,
      overwriteFile: 'true',
      encoding: 'none',
      x: 530,
      y: row(1),
      wires: [[ids.toDetails]],
    },
    {
      id: ids.toDetails,
      type: 'change',
      z,
      name: 'payload = msg.bfl',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'bfl', tot: 'msg' }],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 730,
      y: row(1),
      wires: [[ids.done]],
    },
    { ...finish, x: 930, y: row(1), wires: [] },
    {
      id: ids.catch,
      type: 'catch',
      z,
      name: 'any error',
      scope: null,
      uncaught: false,
      x: 130,
      y: row(2),
      wires: [[ids.toError]],
    },
    {
      id: ids.toError,
      type: 'change',
      z,
      name: 'payload = error',
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
        {
          t: 'set',
          p: 'payload',
          pt: 'msg',
          to: '{"code": error.code, "message": error.message, "source": error.source.type}',
          tot: 'jsonata',
        },
      ],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 330,
      y: row(2),
      wires: [[ids.failed]],
    },
    { ...failed, x: 530, y: row(2), wires: [] },
    config,
  ];
}
