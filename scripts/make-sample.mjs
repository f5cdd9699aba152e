#!/usr/bin/env node
/**
 * Renders the demo assets and the example flows for @fluxfill/node-red-bfl.
 *
 *   node scripts/make-sample.mjs
 *
 * Writes (all deterministic: same sharp version, same bytes):
 *   assets/sample.jpg             1024×768 lakeside scene at dusk with a sailboat on the water
 *   assets/sample-mask.png        1024×768 mask: white over the sailboat and its reflection, black elsewhere
 *   assets/sample-small.png       256×192 version of the scene (palette PNG, embedded in example 01 and 03)
 *   assets/sample-small-mask.png  256×192 version of the mask
 *   assets/sample-small-alpha.png 256×192 scene whose sailboat area is transparent (example 02)
 *   examples/01 Fill an image with a mask.json
 *   examples/02 Fill using the alpha channel.json
 *   examples/03 Route moderation and errors.json
 *   examples/04 Fill a file with a mask file.json
 *
 * The example flows embed the small PNGs as base64 strings, so they are generated here rather than edited by hand:
 * change the flows in this file and run it again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');
const assetsDir = join(root, 'assets'); // outside examples/, which is packed and listed in Import → Examples

const W = 1024;
const H = 768;
const HORIZON = 470; // the lake's far shore
const BOAT = { x: 640, y: 600 }; // waterline centre of the sailboat: the object to remove or replace

// ---------------------------------------------------------------------------------------------------------------
// Procedural scene

/** Small deterministic PRNG (mulberry32), so the scene is the same on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f1 = (n) => Math.round(n * 10) / 10;

/** A mountain ridge by midpoint displacement, closed down to the horizon. */
function ridge(rand, { top, bottom, roughness, points = 65 }) {
  const ys = new Array(points).fill(0);
  ys[0] = top + rand() * (bottom - top);
  ys[points - 1] = top + rand() * (bottom - top);
  let step = points - 1;
  let spread = (bottom - top) * 0.9;
  while (step > 1) {
    const half = step / 2;
    for (let i = half; i < points - 1; i += step) {
      const mid = (ys[i - half] + ys[i + half]) / 2 + (rand() - 0.5) * spread;
      ys[i] = Math.min(bottom, Math.max(top, mid));
    }
    step = half;
    spread *= roughness;
  }
  const dx = W / (points - 1);
  const d = ys.map((y, i) => `${i === 0 ? 'M' : 'L'}${f1(i * dx)} ${f1(y)}`).join(' ');
  return `${d} L${W} ${HORIZON + 2} L0 ${HORIZON + 2} Z`;
}

/** A band of pine trees standing on the far shore. */
function treeline(rand) {
  const trees = [];
  let x = -10;
  while (x < W + 10) {
    const h = 14 + rand() * 40 + (x > 700 ? 18 : 0);
    const w = h * (0.32 + rand() * 0.12);
    const base = HORIZON + 2;
    trees.push(`M${f1(x - w / 2)} ${base} L${f1(x)} ${f1(base - h)} L${f1(x + w / 2)} ${base} Z`);
    x += 5 + rand() * 11;
  }
  return trees.join(' ');
}

/** The sailboat, drawn with its waterline centre at (0,0). */
function sailboat() {
  return `
    <path d="M-62 -4 L62 -4 L46 16 L-44 16 Z" fill="#5a2e1f"/>
    <path d="M-62 -4 L62 -4 L60 1 L-60 1 Z" fill="#e8d6b0"/>
    <rect x="-3" y="-150" width="4" height="148" fill="#3a2a22"/>
    <path d="M2 -146 L2 -10 L58 -10 Q44 -80 2 -146 Z" fill="#f6efe0"/>
    <path d="M2 -146 L2 -10 L58 -10 Q44 -80 2 -146 Z" fill="url(#sailShade)"/>
    <path d="M-5 -138 L-5 -10 L-54 -10 Q-42 -72 -5 -138 Z" fill="#c8413a"/>
    <path d="M-5 -138 L-5 -10 L-54 -10 Q-42 -72 -5 -138 Z" fill="url(#sailShade)" opacity="0.6"/>
    <rect x="-1" y="-156" width="12" height="6" fill="#c8413a"/>`;
}

function sceneSvg({ withBoat = true } = {}) {
  const rand = prng(20240917);
  const far = ridge(rand, { top: 285, bottom: 430, roughness: 0.55 });
  const mid = ridge(rand, { top: 360, bottom: 455, roughness: 0.6 });
  const trees = treeline(rand);

  const clouds = [];
  for (let i = 0; i < 7; i++) {
    const cx = 60 + rand() * 900;
    const cy = 70 + rand() * 200;
    const rx = 60 + rand() * 110;
    clouds.push(
      `<ellipse cx="${f1(cx)}" cy="${f1(cy)}" rx="${f1(rx)}" ry="${f1(7 + rand() * 10)}" fill="#ffd9c2" opacity="${f1(0.18 + rand() * 0.25)}"/>`,
    );
  }

  const sparkles = [];
  for (let i = 0; i < 26; i++) {
    const y = HORIZON + 8 + i * 11 + rand() * 6;
    const spread = 12 + i * 3.2;
    const w = 14 + rand() * (40 + i * 2);
    const x = 300 + (rand() - 0.5) * spread - w / 2;
    sparkles.push(
      `<rect x="${f1(x)}" y="${f1(y)}" width="${f1(w)}" height="${f1(2 + rand() * 2)}" rx="1.5" fill="#ffe2a8" opacity="${f1(0.75 - i * 0.025)}"/>`,
    );
  }

  const ripples = [];
  for (let i = 0; i < 40; i++) {
    const y = HORIZON + 20 + rand() * (H - HORIZON - 30);
    const depth = (y - HORIZON) / (H - HORIZON);
    const w = 30 + rand() * 120 * (0.5 + depth);
    const x = rand() * W;
    ripples.push(
      `<rect x="${f1(x)}" y="${f1(y)}" width="${f1(w)}" height="${f1(1 + depth * 2)}" rx="1" fill="#c9d6ff" opacity="${f1(0.08 + rand() * 0.1)}"/>`,
    );
  }

  const reeds = [];
  for (let i = 0; i < 34; i++) {
    const x = -10 + i * 6.5 + rand() * 5;
    const h = 70 + rand() * 90 - i * 1.6;
    const lean = (rand() - 0.3) * 26;
    reeds.push(
      `<path d="M${f1(x)} ${H} Q${f1(x + lean / 2)} ${f1(H - h / 2)} ${f1(x + lean)} ${f1(H - h)}" stroke="#151b26" stroke-width="${f1(2 + rand() * 2)}" fill="none" stroke-linecap="round"/>`,
    );
    if (rand() < 0.3) {
      reeds.push(
        `<ellipse cx="${f1(x + lean)}" cy="${f1(H - h + 12)}" rx="3.5" ry="12" fill="#2a1c16" transform="rotate(${f1(lean / 2)} ${f1(x + lean)} ${f1(H - h + 12)})"/>`,
      );
    }
  }

  const boat = withBoat
    ? `<g transform="translate(${BOAT.x} ${BOAT.y + 2}) scale(1 -0.8)" opacity="0.32" clip-path="url(#lakeClip)">${sailboat()}</g>
       <g transform="translate(${BOAT.x} ${BOAT.y})">${sailboat()}</g>
       <rect x="${BOAT.x - 80}" y="${BOAT.y + 17}" width="160" height="2" rx="1" fill="#dfe8ff" opacity="0.35"/>`
    : '';

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1b2550"/>
      <stop offset="0.45" stop-color="#4f3f7e"/>
      <stop offset="0.78" stop-color="#d9786b"/>
      <stop offset="1" stop-color="#f8c48a"/>
    </linearGradient>
    <linearGradient id="lake" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#e9a98a"/>
      <stop offset="0.25" stop-color="#7d6a93"/>
      <stop offset="1" stop-color="#1a2443"/>
    </linearGradient>
    <radialGradient id="glow" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#fff4d6" stop-opacity="0.9"/>
      <stop offset="0.35" stop-color="#ffd08a" stop-opacity="0.45"/>
      <stop offset="1" stop-color="#ff9a6a" stop-opacity="0"/>
    </radialGradient>
    <linearGradient id="sailShade" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#000" stop-opacity="0.18"/>
      <stop offset="1" stop-color="#000" stop-opacity="0"/>
    </linearGradient>
    <clipPath id="lakeClip"><rect x="0" y="${HORIZON}" width="${W}" height="${H - HORIZON}"/></clipPath>
  </defs>
  <rect width="${W}" height="${HORIZON + 2}" fill="url(#sky)"/>
  <circle cx="300" cy="405" r="190" fill="url(#glow)"/>
  <circle cx="300" cy="405" r="44" fill="#fff3cf"/>
  ${clouds.join('\n  ')}
  <path d="${far}" fill="#7a6399" opacity="0.85"/>
  <path d="${mid}" fill="#47396a"/>
  <path d="${trees}" fill="#1c2236"/>
  <rect y="${HORIZON}" width="${W}" height="${H - HORIZON}" fill="url(#lake)"/>
  <g clip-path="url(#lakeClip)" opacity="0.28" transform="translate(0 ${HORIZON * 2 + 4}) scale(1 -1)">
    <path d="${far}" fill="#7a6399"/>
    <path d="${mid}" fill="#2f2650"/>
    <path d="${trees}" fill="#141a2a"/>
  </g>
  ${sparkles.join('\n  ')}
  ${ripples.join('\n  ')}
  ${boat}
  <path d="M0 ${H} L0 650 Q60 630 130 668 Q190 700 250 ${H} Z" fill="#151b26"/>
  ${reeds.join('\n  ')}
</svg>`;
}

/**
 * The mask: the sailboat and its reflection in white, grown by a margin so the fill blends in, on black.
 * Drawn from the same geometry as the scene, so it always matches.
 */
function maskSvg() {
  const grow = 'stroke="#fff" stroke-width="22" stroke-linejoin="round"';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
  <rect width="${W}" height="${H}" fill="#000"/>
  <g transform="translate(${BOAT.x} ${BOAT.y})" fill="#fff" ${grow}>
    <path d="M-62 -4 L62 -4 L46 16 L-44 16 Z"/>
    <path d="M-3 -158 L13 -158 L13 -148 L58 -10 L-54 -10 L-5 -140 Z"/>
  </g>
  <g transform="translate(${BOAT.x} ${BOAT.y + 2}) scale(1 -0.8)" fill="#fff" ${grow}>
    <path d="M-62 -4 L62 -4 L46 16 L-44 16 Z"/>
    <path d="M-3 -158 L13 -158 L13 -148 L58 -10 L-54 -10 L-5 -140 Z"/>
  </g>
  <rect x="${BOAT.x - 92}" y="${BOAT.y - 6}" width="184" height="36" fill="#fff"/>
</svg>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

/** A strictly black-and-white, single-channel PNG: no grey edges for the API to guess about. */
function binaryMaskPng(input) {
  return input.greyscale().threshold(128).toColourspace('b-w').png({ compressionLevel: 9, palette: false });
}

async function render() {
  await mkdir(assetsDir, { recursive: true });
  const scene = Buffer.from(sceneSvg());
  const mask = Buffer.from(maskSvg());

  const sceneRaw = await sharp(scene).removeAlpha().png().toBuffer();
  const maskRaw = await sharp(mask).removeAlpha().png().toBuffer();

  const sampleJpg = await sharp(sceneRaw).jpeg({ quality: 84, mozjpeg: true, chromaSubsampling: '4:2:0' }).toBuffer();
  const sampleMask = await binaryMaskPng(sharp(maskRaw)).toBuffer();

  const smallW = 256;
  const smallH = 192;
  const smallScene = await sharp(sceneRaw).resize(smallW, smallH, { kernel: 'lanczos3' }).png().toBuffer();
  const smallPng = await sharp(smallScene)
    .png({ palette: true, colours: 96, dither: 0.6, compressionLevel: 9 })
    .toBuffer();
  const smallMask = await binaryMaskPng(sharp(maskRaw).resize(smallW, smallH, { kernel: 'nearest' })).toBuffer();

  // Alpha-channel variant: the masked area is fully transparent, everything else fully opaque.
  const rgb = await sharp(smallScene).removeAlpha().raw().toBuffer();
  const maskPixels = await sharp(smallMask).extractChannel(0).raw().toBuffer();
  const rgba = Buffer.alloc(smallW * smallH * 4);
  for (let i = 0; i < smallW * smallH; i++) {
    const hole = maskPixels[i] >= 128;
    rgba[i * 4] = hole ? 0 : rgb[i * 3];
    rgba[i * 4 + 1] = hole ? 0 : rgb[i * 3 + 1];
    rgba[i * 4 + 2] = hole ? 0 : rgb[i * 3 + 2];
    rgba[i * 4 + 3] = hole ? 0 : 255;
  }
  const smallAlpha = await sharp(rgba, { raw: { width: smallW, height: smallH, channels: 4 } })
    .png({ palette: true, colours: 96, dither: 0.6, compressionLevel: 9 })
    .toBuffer();

  const files = {
    'sample.jpg': sampleJpg,
    'sample-mask.png': sampleMask,
    'sample-small.png': smallPng,
    'sample-small-mask.png': smallMask,
    'sample-small-alpha.png': smallAlpha,
  };
  for (const [name, buf] of Object.entries(files)) {
    await writeFile(join(assetsDir, name), buf);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------------
// Example flows (no tab and no z, so they import into the current flow; every id is 16 hex digits)

/**
 * Each example carries its own emulator config node with its own id: importing a second example then adds a node
 * instead of raising Node-RED's "nodes already exist" conflict dialog.
 */
function emulatorConfig(id) {
  return {
    id,
    type: 'bfl-config',
    name: 'BFL emulator',
    region: 'emulator',
    baseUrl: '',
    maxConcurrent: 24,
  };
}

function fillNode(id, config, extra) {
  return {
    id,
    type: 'bfl-fill',
    name: '',
    config,
    prompt: '',
    promptType: 'str',
    steps: 50,
    stepsType: 'num',
    guidance: 60,
    guidanceType: 'num',
    seed: '',
    seedType: 'num',
    outputFormat: 'jpeg',
    safetyTolerance: 2,
    promptUpsampling: false,
    timeout: 300,
    ...extra,
  };
}

function debugNode(id, name, property, x, y) {
  return {
    id,
    type: 'debug',
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: property !== 'payload',
    complete: property,
    targetType: 'msg',
    statusVal: property,
    statusType: 'auto',
    x,
    y,
    wires: [],
  };
}

function injectNode(id, name, props, x, y, wires) {
  // props: [{ p, v, vt }]; payload and topic live in the node's own payload/topic fields, as the editor saves them.
  const node = {
    id,
    type: 'inject',
    name,
    props: [],
    repeat: '',
    crontab: '',
    once: false,
    onceDelay: 0.1,
    topic: '',
    x,
    y,
    wires: [wires],
  };
  for (const { p, v, vt } of props) {
    if (p === 'payload') {
      node.props.push({ p: 'payload' });
      node.payload = v;
      node.payloadType = vt;
    } else if (p === 'topic') {
      node.props.push({ p: 'topic', vt: 'str' });
      node.topic = v;
    } else {
      node.props.push({ p, v, vt });
    }
  }
  if (!('payload' in node)) {
    node.payload = '';
    node.payloadType = 'date';
  }
  return node;
}

function comment(id, name, info, x, y) {
  return { id, type: 'comment', name, info, x, y, wires: [] };
}

function catchNode(id, name, scope, x, y, wires) {
  return { id, type: 'catch', name, scope, uncaught: false, x, y, wires: [wires] };
}

function example1(b64) {
  const fill = 'b1f1c0de01000003';
  return [
    comment(
      'b1f1c0de01000001',
      'Fill an image with a mask (runs offline on the built-in emulator)',
      [
        'Click the inject node. It sends a small lakeside picture as a base64 PNG in `msg.payload` and a matching',
        'mask in `msg.mask` (white = the sailboat to replace, black = keep).',
        '',
        'The **bfl fill** node sends both to FLUX.1 Fill [pro] with the prompt set in the node and outputs the result',
        'as a Buffer in `msg.payload`; `msg.bfl` tells the task id, seed, cost and timings.',
        '',
        'The `BFL emulator` config node uses the **emulator** region: nothing is billed, no real model runs and no key',
        'is needed; the masked area gets a synthetic fill. To use the real API, open the config node, choose the',
        '`global`, `eu` or `us` region and paste your BFL API key.',
        '',
        'Errors (for example a bad image) reach the Catch node: `msg.error.code` says what went wrong.',
        '',
        'To see the picture, wire a **write file** node after the fill node (filename e.g. `result.jpg`).',
      ].join('\n'),
      320,
      40,
    ),
    injectNode(
      'b1f1c0de01000002',
      'lake picture + mask',
      [
        { p: 'payload', v: b64.smallPng, vt: 'str' },
        { p: 'mask', v: b64.smallMask, vt: 'str' },
        { p: 'topic', v: 'lake' },
      ],
      210,
      100,
      [fill],
    ),
    fillNode(fill, 'b1f1c0de010000cf', {
      name: 'replace the boat',
      prompt: 'calm lake water reflecting the sunset sky',
      x: 450,
      y: 100,
      wires: [['b1f1c0de01000004']],
    }),
    debugNode('b1f1c0de01000004', 'result (msg.bfl)', 'bfl', 690, 100),
    catchNode('b1f1c0de01000005', 'errors of the fill', [fill], 190, 160, ['b1f1c0de01000006']),
    debugNode('b1f1c0de01000006', 'error code', 'error.code', 450, 160),
    emulatorConfig('b1f1c0de010000cf'),
  ];
}

function example2(b64) {
  const fill = 'b1f1c0de02000003';
  return [
    comment(
      'b1f1c0de02000001',
      'Fill using the alpha channel (no msg.mask)',
      [
        'Click the inject node. It sends one PNG in `msg.payload` whose sailboat area is **transparent**; there is',
        'no `msg.mask`.',
        '',
        "Without a mask, the **bfl fill** node uses the image's alpha channel as the mask: transparent pixels are",
        'filled, opaque pixels are kept. Here the prompt asks for a small wooden jetty in the hole.',
        '',
        'Runs offline on the emulator region (nothing billed, synthetic fill). Errors reach the Catch node.',
      ].join('\n'),
      280,
      40,
    ),
    injectNode(
      'b1f1c0de02000002',
      'picture with a hole',
      [
        { p: 'payload', v: b64.smallAlpha, vt: 'str' },
        { p: 'topic', v: 'alpha' },
      ],
      200,
      100,
      [fill],
    ),
    fillNode(fill, 'b1f1c0de020000cf', {
      name: 'fill the hole',
      prompt: 'a small wooden jetty',
      outputFormat: 'png',
      x: 450,
      y: 100,
      wires: [['b1f1c0de02000004']],
    }),
    debugNode('b1f1c0de02000004', 'result (msg.bfl)', 'bfl', 690, 100),
    catchNode('b1f1c0de02000005', 'errors of the fill', [fill], 210, 160, ['b1f1c0de02000006']),
    debugNode('b1f1c0de02000006', 'error code', 'error.code', 470, 160),
    emulatorConfig('b1f1c0de020000cf'),
  ];
}

function example3(b64) {
  const fill = 'b1f1c0de03000004';
  const sw = 'b1f1c0de03000007';
  return [
    comment(
      'b1f1c0de03000001',
      'Route moderation and other errors',
      [
        'Failures of the **bfl fill** node go to Catch nodes with `msg.error.code` and `msg.error.message`.',
        'The Catch node here listens to the fill node only; the switch sends moderation outcomes',
        '(`BFL_REQUEST_MODERATED`, `BFL_CONTENT_MODERATED`: change the prompt or image, nothing is charged) one way and',
        'every other code the other way.',
        '',
        "- **moderated prompt** sets `msg.prompt` to a text containing `[emulate:request-moderated]`. The node's own",
        '  prompt is empty, so `msg.prompt` is used; the built-in emulator sees the marker and answers',
        '  "Request Moderated", as BFL does when it refuses an input.',
        '- **not an image** sends a plain string: the node rejects it before anything is submitted',
        '  (`BFL_INVALID_INPUT`).',
        '',
        'Runs offline on the emulator region; the real API would read the marker as ordinary prompt text.',
      ].join('\n'),
      250,
      40,
    ),
    injectNode(
      'b1f1c0de03000002',
      'moderated prompt',
      [
        { p: 'payload', v: b64.smallPng, vt: 'str' },
        { p: 'mask', v: b64.smallMask, vt: 'str' },
        { p: 'prompt', v: '[emulate:request-moderated] a pirate ship', vt: 'str' },
        { p: 'topic', v: 'moderated' },
      ],
      200,
      100,
      [fill],
    ),
    injectNode(
      'b1f1c0de03000003',
      'not an image',
      [
        { p: 'payload', v: 'this is not an image', vt: 'str' },
        { p: 'topic', v: 'invalid' },
      ],
      190,
      140,
      [fill],
    ),
    fillNode(fill, 'b1f1c0de030000cf', { name: 'fill from msg.prompt', x: 440, y: 120, wires: [['b1f1c0de03000005']] }),
    debugNode('b1f1c0de03000005', 'result (msg.bfl)', 'bfl', 690, 120),
    catchNode('b1f1c0de03000006', 'errors of the fill', [fill], 190, 220, [sw]),
    {
      id: sw,
      type: 'switch',
      name: 'moderation?',
      property: 'error.code',
      propertyType: 'msg',
      rules: [{ t: 'regex', v: '^BFL_(REQUEST|CONTENT)_MODERATED$', vt: 'str', case: false }, { t: 'else' }],
      checkall: 'false',
      repair: false,
      outputs: 2,
      x: 400,
      y: 220,
      wires: [['b1f1c0de03000008'], ['b1f1c0de03000009']],
    },
    debugNode('b1f1c0de03000008', 'moderated: change the prompt', 'error.message', 670, 200),
    debugNode('b1f1c0de03000009', 'other error', 'error', 610, 240),
    emulatorConfig('b1f1c0de030000cf'),
  ];
}

function example4(b64) {
  const id = (n) => `b1f1c0de040000${String(n).padStart(2, '0')}`;
  const fill = id(20);
  const dir = '/tmp/bfl-example';
  const setProp = (p, to, tot = 'str') => ({ t: 'set', p, pt: 'msg', to, tot });
  const moveProp = (p, to) => ({ t: 'move', p, pt: 'msg', to, tot: 'msg' });
  const change = (n, name, rules, x, y, wires) => ({ id: id(n), type: 'change', name, rules, x, y, wires: [wires] });
  const readFile = (n, name, x, y, wires) => ({
    id: id(n),
    type: 'file in',
    name,
    filename: 'filename',
    filenameType: 'msg',
    format: '',
    chunk: false,
    sendError: false,
    encoding: 'none',
    allProps: false,
    x,
    y,
    wires: [wires],
  });
  const writeFile = (n, name, x, y, wires = []) => ({
    id: id(n),
    type: 'file',
    name,
    filename: 'filename',
    filenameType: 'msg',
    appendNewline: false,
    createDir: true,
    overwriteFile: 'true',
    encoding: 'none',
    x,
    y,
    wires: [wires],
  });
  return [
    comment(
      id(1),
      'Fill a file with a mask file',
      [
        `1. Click **write sample files**: it writes a small picture and its mask to \`${dir}/\`.`,
        '   (Skip this with pictures of your own.)',
        `2. Click **fill the file**: the flow reads \`picture.png\` and \`mask.png\` from \`${dir}/\`, sends them`,
        `   through the **bfl fill** node and writes the result to \`${dir}/result.jpg\`.`,
        '',
        'The file names are set in the change nodes; point them at your own files (the mask must have the',
        "picture's size: white = fill, black = keep). Read files with the output **a single Buffer object**.",
        '',
        'Runs offline on the emulator region (nothing billed, synthetic fill). Errors of the files or the fill',
        'reach the Catch node.',
      ].join('\n'),
      300,
      40,
    ),
    injectNode(
      id(2),
      'write sample files',
      [
        { p: 'payload', v: b64.smallPng, vt: 'str' },
        { p: 'mask', v: b64.smallMask, vt: 'str' },
      ],
      160,
      100,
      [id(3)],
    ),
    {
      id: id(3),
      type: 'function',
      name: 'picture and mask as files',
      func: [
        `const dir = '${dir}';`,
        'return [',
        "  { payload: Buffer.from(msg.payload, 'base64'), filename: `${dir}/picture.png` },",
        "  { payload: Buffer.from(msg.mask, 'base64'), filename: `${dir}/mask.png` },",
        '];',
      ].join('\n'),
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      x: 380,
      y: 100,
      wires: [[id(4)], [id(4)]],
    },
    writeFile(4, 'write sample file', 600, 100),
    injectNode(id(10), 'fill the file', [], 140, 180, [id(11)]),
    change(11, 'picture file', [setProp('filename', `${dir}/picture.png`)], 310, 180, [id(12)]),
    readFile(12, 'read picture', 480, 180, [id(13)]),
    change(13, 'mask file', [moveProp('payload', 'picture'), setProp('filename', `${dir}/mask.png`)], 640, 180, [
      id(14),
    ]),
    readFile(14, 'read mask', 790, 180, [id(15)]),
    change(15, 'picture + mask', [moveProp('payload', 'mask'), moveProp('picture', 'payload')], 160, 260, [fill]),
    fillNode(fill, id(90), {
      name: 'replace the boat',
      prompt: 'calm lake water reflecting the sunset sky',
      x: 350,
      y: 260,
      wires: [[id(21)]],
    }),
    change(21, 'result file', [setProp('filename', `${dir}/result.jpg`)], 540, 260, [id(22)]),
    writeFile(22, 'write result', 720, 260, [id(23)]),
    debugNode(id(23), 'result (msg.bfl)', 'bfl', 910, 260),
    catchNode(id(30), 'errors', [id(12), id(14), fill, id(22)], 150, 320, [id(31)]),
    debugNode(id(31), 'error', 'error', 350, 320),
    emulatorConfig(id(90)),
  ];
}

async function writeExamples(files) {
  const b64 = {
    smallPng: files['sample-small.png'].toString('base64'),
    smallMask: files['sample-small-mask.png'].toString('base64'),
    smallAlpha: files['sample-small-alpha.png'].toString('base64'),
  };
  const flows = {
    '01 Fill an image with a mask.json': example1(b64),
    '02 Fill using the alpha channel.json': example2(b64),
    '03 Route moderation and errors.json': example3(b64),
    '04 Fill a file with a mask file.json': example4(b64),
  };
  for (const [name, flow] of Object.entries(flows)) {
    await writeFile(join(examplesDir, name), JSON.stringify(flow, null, 4) + '\n');
  }
  return Object.keys(flows);
}

const files = await render();
const flows = await writeExamples(files);
for (const [name, buf] of Object.entries(files)) {
  console.log(`assets/${name}  ${(buf.length / 1024).toFixed(1)} KB`);
}
for (const name of flows) console.log(`examples/${name}`);
