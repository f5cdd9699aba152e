/**
 * Axis-aligned pixel boxes: the bounding box of a mask, the area of the image sent, the patch pasted back.
 * Plain integer arithmetic, no pixels. Boxes are half-open: a box covers the pixels x with
 * left <= x < left + width, and likewise for y.
 */

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function boxArea(box: Box): number {
  return box.width * box.height;
}

export function wholeImage(width: number, height: number): Box {
  return { left: 0, top: 0, width, height };
}

export function sameBox(a: Box, b: Box): boolean {
  return a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height;
}

/** The overlap of two boxes; width and height are 0 when they do not overlap. */
export function intersect(a: Box, b: Box): Box {
  const left = Math.max(a.left, b.left);
  const top = Math.max(a.top, b.top);
  const right = Math.min(a.left + a.width, b.left + b.width);
  const bottom = Math.min(a.top + a.height, b.top + b.height);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** `box` grown by `by` pixels on every side, then clipped to `within`. */
export function expand(box: Box, by: number, within: Box): Box {
  return intersect(
    { left: box.left - by, top: box.top - by, width: box.width + 2 * by, height: box.height + 2 * by },
    within,
  );
}

/** `box` relative to `origin`'s top left corner. */
export function relativeTo(box: Box, origin: Box): Box {
  return { left: box.left - origin.left, top: box.top - origin.top, width: box.width, height: box.height };
}

/** Whether `inner` lies wholly inside `outer`. */
export function contains(outer: Box, inner: Box): boolean {
  return (
    inner.left >= outer.left &&
    inner.top >= outer.top &&
    inner.left + inner.width <= outer.left + outer.width &&
    inner.top + inner.height <= outer.top + outer.height
  );
}

/**
 * A box of at least `width`×`height` (each no larger than `within`) that still holds `box`: grown evenly on
 * both sides, then shifted back inside `within` where it would stick out.
 */
export function growTo(box: Box, width: number, height: number, within: Box): Box {
  const newWidth = Math.min(within.width, Math.max(box.width, Math.ceil(width)));
  const newHeight = Math.min(within.height, Math.max(box.height, Math.ceil(height)));
  const left = clamp(
    box.left - Math.floor((newWidth - box.width) / 2),
    within.left,
    within.left + within.width - newWidth,
  );
  const top = clamp(
    box.top - Math.floor((newHeight - box.height) / 2),
    within.top,
    within.top + within.height - newHeight,
  );
  return { left, top, width: newWidth, height: newHeight };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
