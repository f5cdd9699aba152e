#!/usr/bin/env node
/**
 * Renders the README's picture of a fill: input | mask | result, side by side with captions.
 *
 *   npm run build && node scripts/make-readme-picture.mjs
 *
 * Runs the engine from dist/ (build first) against the in-process emulator: assets/sample.jpg with msg.mask as
 * shapes around the sailboat (a polygon over the sails, a rectangle over the hull), paste-back on, a 6 px feather,
 * PNG output. The emulator's fill is synthetic, not a real model's. Checks that every pixel outside the mask is
 * the input's own, then writes docs/fill-example.png. Offline; nothing is billed. The same build gives the same
 * bytes: the emulator's fill depends only on the seed and the prompt.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const INPUT = join(root, 'assets', 'sample.jpg');
const OUTPUT = join(root, 'docs', 'fill-example.png');
const KEY = 'bfl_readme_picture_key';

/** msg.mask: the sailboat of assets/sample.jpg (1024×768; see BOAT in make-sample.mjs), in pixels. */
const SHAPES = [
  {
    points: [
      [630, 434],
      [658, 434],
      [710, 594],
      [570, 594],
    ],
  },
  { x: 562, y: 588, width: 160, height: 38 },
];
const IMAGE_OPTIONS = { maskFeather: 6, pasteBack: true };

/** The part of the 1024×768 scene shown: the lower right, where the boat is, at 0.6×. */
const VIEW = { left: 384, top: 288, width: 640, height: 480 };
const PANEL_WIDTH = 384;
const GAP = 12;
const CAPTION_HEIGHT = 30;
const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";
const OUTLINE = '#ff40a0';

const require = createRequire(import.meta.url);
let engine;
let imageEngine;
try {
  engine = require('../dist/lib/index.js');
  imageEngine = require('../dist/lib/image/index.js');
} catch (error) {
  process.stderr.write(`dist/ is missing or incomplete; run \`npm run build\` first.\n${String(error)}\n`);
  process.exit(1);
}
const { BflEmulator, FillService, emulatorEndpoint, fill } = engine;
const { geometryMaskPng } = imageEngine;

/** One fill of the sample through the emulator, as the bfl-fill node would run it. */
async function runFill(input) {
  const emulator = await BflEmulator.start({ processingMs: 50, keys: { [KEY]: 1000 } });
  const service = new FillService({
    endpoint: emulatorEndpoint(emulator),
    apiKey: KEY,
    maxConcurrent: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    pollSchedule: { initialMs: 10, maxMs: 20 },
  });
  try {
    return await fill(
      service,
      {
        inputs: {
          prompt: 'calm lake water reflecting the sunset sky',
          outputFormat: 'png',
          seed: 42,
          ...IMAGE_OPTIONS,
        },
        fallbacks: {},
        image: input,
        mask: SHAPES,
      },
      new AbortController().signal,
    );
  } finally {
    await service.close();
    await emulator.close();
  }
}

/** Pixels outside the mask that differ between the (decoded) input and the result; 0 with paste-back. */
async function changedOutsideMask(input, result, mask) {
  const raw = (image) => sharp(image).autoOrient().removeAlpha().raw().toBuffer();
  const [a, b, m] = await Promise.all([raw(input), raw(result), sharp(mask).extractChannel(0).raw().toBuffer()]);
  let changed = 0;
  for (let pixel = 0; pixel < m.length; pixel += 1) {
    if (m[pixel] !== 0) continue;
    const offset = pixel * 3;
    if (a[offset] !== b[offset] || a[offset + 1] !== b[offset + 1] || a[offset + 2] !== b[offset + 2]) changed += 1;
  }
  return changed;
}

const escapeXml = (value) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The shapes as SVG outlines in panel pixels. */
function shapesSvg(scale) {
  const f = (value, origin) => Math.round((value - origin) * scale * 10) / 10;
  return SHAPES.map((shape) =>
    shape.points
      ? `<polygon points="${shape.points.map(([x, y]) => `${f(x, VIEW.left)},${f(y, VIEW.top)}`).join(' ')}"/>`
      : `<rect x="${f(shape.x, VIEW.left)}" y="${f(shape.y, VIEW.top)}" ` +
        `width="${f(shape.width, 0)}" height="${f(shape.height, 0)}"/>`,
  ).join('');
}

/** The VIEW part of an image, scaled to panel size. */
function view(image, size) {
  return sharp(image).extract(VIEW).resize(size.width, size.height).removeAlpha();
}

/** The shapes' outlines over a panel. */
function outlineSvg(size) {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">` +
      `<g fill="none" stroke="${OUTLINE}" stroke-width="2" stroke-linejoin="round">` +
      `${shapesSvg(size.width / VIEW.width)}</g></svg>`,
  );
}

/** The mask panel: the mask the engine drew from the shapes, over a dimmed input, with the shapes outlined. */
async function maskPanel(input, mask, size) {
  const dimmed = await view(input, size).linear(0.3, 0).png().toBuffer();
  const maskView = await view(mask, size).extractChannel(0).raw().toBuffer();
  const white = await sharp({ create: { ...size, channels: 3, background: '#ffffff' } })
    .joinChannel(maskView, { raw: { ...size, channels: 1 } })
    .png()
    .toBuffer();
  return sharp(dimmed)
    .composite([{ input: white }, { input: outlineSvg(size) }])
    .png()
    .toBuffer();
}

function captionSvg(width, captions) {
  const texts = captions.map(
    (caption, index) =>
      `<text x="${GAP + index * (PANEL_WIDTH + GAP) + PANEL_WIDTH / 2}" y="20" text-anchor="middle">` +
      `${escapeXml(caption)}</text>`,
  );
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${CAPTION_HEIGHT}">` +
      `<g font-family="${FONT}" font-size="14" fill="#24292f">${texts.join('')}</g></svg>`,
  );
}

const started = performance.now();
const input = await readFile(INPUT);
const outcome = await runFill(input);
const mask = await geometryMaskPng(outcome.geometry);
const result = await sharp(outcome.image).metadata();
if (result.width !== 1024 || result.height !== 768) throw new Error(`result is ${result.width}×${result.height}`);
const changed = await changedOutsideMask(input, outcome.image, mask);
if (changed !== 0) throw new Error(`paste-back changed ${changed} pixels outside the mask`);

const panelHeight = Math.round((PANEL_WIDTH * VIEW.height) / VIEW.width);
const size = { width: PANEL_WIDTH, height: panelHeight };
const panels = await Promise.all([
  view(input, size).png().toBuffer(),
  maskPanel(input, mask, size),
  view(outcome.image, size).png().toBuffer(),
]);
const canvasWidth = 3 * PANEL_WIDTH + 4 * GAP;
const canvasHeight = GAP + panelHeight + CAPTION_HEIGHT + GAP / 2;
const picture = await sharp({
  create: { width: canvasWidth, height: canvasHeight, channels: 3, background: '#ffffff' },
})
  .composite([
    ...panels.map((buffer, index) => ({ input: buffer, left: GAP + index * (PANEL_WIDTH + GAP), top: GAP })),
    {
      input: captionSvg(canvasWidth, [
        'msg.payload: input',
        'msg.mask: 2 shapes, drawn as a mask',
        'msg.payload: result (emulator)',
      ]),
      left: 0,
      top: GAP + panelHeight,
    },
  ])
  .png({ compressionLevel: 9, palette: true, quality: 90, effort: 10 })
  .toBuffer();

await mkdir(dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, picture);
const shown = relative(process.cwd(), OUTPUT) || OUTPUT;
process.stdout.write(
  `${shown}: ${canvasWidth}×${canvasHeight}, ${Math.round(picture.length / 1024)} KB, ` +
    `task ${outcome.metadata.id}, 0 pixels changed outside the mask, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);
