// The mask painter's shapes (the bfl-fill dialog), without the DOM: reading the node's maskShapes, hit tests,
// moving and resizing, and writing them back in the formats the engine's shape parser reads (lib/image/shapes:
// rectangle {x, y, width, height}, ellipse {cx, cy, rx, ry}, polygon {points: [[x, y], ...]}), in fractions
// 0..1 of the image. The build pastes this file into nodes/bfl-fill.html; test/editor/mask-shapes.test.ts runs
// it in a VM and hands what it writes to the engine's parser.
/* exported BflMaskShapes */
var BflMaskShapes = (function () {
  'use strict';

  // Fields that tell a shape's kind, as in lib/image/shapes.ts; a shape with fields of two kinds is refused.
  var SIGNATURES = [
    ['rect', ['x', 'y', 'width', 'height']],
    ['ellipse', ['cx', 'cy', 'rx', 'ry']],
    ['polygon', ['points']],
    ['corners', ['x_min', 'y_min', 'x_max', 'y_max']],
    ['coco', ['bbox']],
    ['tfBox', ['box']],
  ];
  var MAX_SHAPES = 1000;
  /** Stored with 4 decimals: a ten-thousandth of the image, under a pixel up to 10000 pixels a side. */
  var PRECISION = 10000;

  function finite(v) {
    return typeof v === 'number' && isFinite(v);
  }

  function round(v) {
    return Math.round(v * PRECISION) / PRECISION;
  }

  function clamp01(v) {
    return Math.min(1, Math.max(0, v));
  }

  function kindOf(item) {
    if (Array.isArray(item)) return item.length === 4 && item.every(finite) ? 'coco' : null;
    if (!item || typeof item !== 'object') return null;
    var kinds = SIGNATURES.filter(function (signature) {
      return signature[1].some(function (field) {
        return item[field] !== undefined;
      });
    });
    return kinds.length === 1 ? kinds[0][0] : null;
  }

  function point(p) {
    if (Array.isArray(p) && p.length === 2 && finite(p[0]) && finite(p[1])) return [p[0], p[1]];
    if (p && typeof p === 'object' && finite(p.x) && finite(p.y)) return [p.x, p.y];
    return null;
  }

  function box(kind, x0, y0, x1, y1) {
    return { kind: kind, x0: x0, y0: y0, x1: x1, y1: y1 };
  }

  /**
   * One stored shape as the painter holds it: rectangles and ellipses as their box {x0, y0, x1, y1}, polygons
   * as points; a shape in pixels (relative: false) is kept as written ({kind: 'pixels', stored}). null when
   * the engine would refuse it for its form (a missing field, a non-number, a size that is not positive).
   */
  function fromStored(item) {
    var kind = kindOf(item);
    if (!kind) return null;
    if (!Array.isArray(item) && item.relative !== undefined && typeof item.relative !== 'boolean') return null;
    if (!Array.isArray(item) && item.relative === false) {
      return kind === 'tfBox' || fromStored(Object.assign({}, item, { relative: true })) === null
        ? null
        : { kind: 'pixels', stored: item };
    }
    var v;
    switch (kind) {
      case 'rect':
        if (![item.x, item.y, item.width, item.height].every(finite) || item.width <= 0 || item.height <= 0) {
          return null;
        }
        return box('rect', item.x, item.y, item.x + item.width, item.y + item.height);
      case 'ellipse':
        if (![item.cx, item.cy, item.rx, item.ry].every(finite) || item.rx <= 0 || item.ry <= 0) return null;
        return box('ellipse', item.cx - item.rx, item.cy - item.ry, item.cx + item.rx, item.cy + item.ry);
      case 'polygon': {
        if (!Array.isArray(item.points) || item.points.length < 3 || item.points.length > 10000) return null;
        var points = item.points.map(point);
        return points.indexOf(null) === -1 ? { kind: 'polygon', points: points } : null;
      }
      case 'corners':
        v = [item.x_min, item.y_min, item.x_max, item.y_max];
        return v.every(finite) && v[2] > v[0] && v[3] > v[1] ? box('rect', v[0], v[1], v[2], v[3]) : null;
      case 'coco':
        v = Array.isArray(item) ? item : item.bbox;
        if (!Array.isArray(v) || v.length !== 4 || !v.every(finite) || v[2] <= 0 || v[3] <= 0) return null;
        return box('rect', v[0], v[1], v[0] + v[2], v[1] + v[3]);
      case 'tfBox':
        v = item.box;
        if (!Array.isArray(v) || v.length !== 4 || !v.every(finite) || v[2] <= v[0] || v[3] <= v[1]) return null;
        // Always fractions, as the engine insists (with its tolerance for rounding).
        if (
          !v.every(function (n) {
            return n >= -1e-6 && n <= 1 + 1e-6;
          })
        )
          return null;
        return box('rect', v[1], v[0], v[3], v[2]);
    }
    return null;
  }

  /** maskShapes as a list (a JSON text of one is read, as the engine reads it); null when it is none. */
  function listOf(value) {
    if (value === undefined || value === null || value === '') return [];
    var list = value;
    if (typeof value === 'string') {
      try {
        list = JSON.parse(value);
      } catch {
        return null;
      }
    }
    return Array.isArray(list) && list.length <= MAX_SHAPES ? list : null;
  }

  /** Why the engine would refuse maskShapes for its form: {index: -1} not a list, {index: i} that shape. */
  function problem(value) {
    var list = listOf(value);
    if (list === null) return { index: -1 };
    for (var i = 0; i < list.length; i += 1) if (fromStored(list[i]) === null) return { index: i, shape: list[i] };
    return null;
  }

  /** The node's maskShapes as the painter's shapes; null when it is not a list the engine could read. */
  function readList(value) {
    return problem(value) ? null : listOf(value).map(fromStored);
  }

  /** A painter shape in the stored form, in fractions with 4 decimals. */
  function toStored(shape) {
    if (shape.kind === 'pixels') return shape.stored;
    if (shape.kind === 'polygon') {
      return {
        points: shape.points.map(function (p) {
          return [round(p[0]), round(p[1])];
        }),
      };
    }
    var b = normalised(shape);
    if (shape.kind === 'ellipse') {
      return {
        cx: round((b.x0 + b.x1) / 2),
        cy: round((b.y0 + b.y1) / 2),
        rx: round((b.x1 - b.x0) / 2),
        ry: round((b.y1 - b.y0) / 2),
      };
    }
    return { x: round(b.x0), y: round(b.y0), width: round(b.x1 - b.x0), height: round(b.y1 - b.y0) };
  }

  function writeList(shapes) {
    return shapes.map(toStored);
  }

  /** A box with x0 <= x1 and y0 <= y1, as after dragging a corner across the opposite one. */
  function normalised(shape) {
    return box(
      shape.kind,
      Math.min(shape.x0, shape.x1),
      Math.min(shape.y0, shape.y1),
      Math.max(shape.x0, shape.x1),
      Math.max(shape.y0, shape.y1),
    );
  }

  /** Whether a drawn shape covers enough to keep: a click without a drag draws nothing. */
  function bigEnough(shape, width, height) {
    var b = normalised(shape);
    return (b.x1 - b.x0) * width >= 3 && (b.y1 - b.y0) * height >= 3;
  }

  function bounds(shape) {
    if (shape.kind !== 'polygon') return normalised(shape);
    var xs = shape.points.map(function (p) {
      return p[0];
    });
    var ys = shape.points.map(function (p) {
      return p[1];
    });
    return box(
      'rect',
      Math.min.apply(null, xs),
      Math.min.apply(null, ys),
      Math.max.apply(null, xs),
      Math.max.apply(null, ys),
    );
  }

  function contains(shape, x, y) {
    if (shape.kind === 'pixels') return false;
    if (shape.kind === 'polygon') {
      var inside = false;
      for (var i = 0, j = shape.points.length - 1; i < shape.points.length; j = i++) {
        var a = shape.points[i];
        var b = shape.points[j];
        if (a[1] > y !== b[1] > y && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
      }
      return inside;
    }
    var n = normalised(shape);
    if (shape.kind === 'rect') return x >= n.x0 && x <= n.x1 && y >= n.y0 && y <= n.y1;
    var rx = (n.x1 - n.x0) / 2;
    var ry = (n.y1 - n.y0) / 2;
    var dx = (x - (n.x0 + rx)) / rx;
    var dy = (y - (n.y0 + ry)) / ry;
    return dx * dx + dy * dy <= 1;
  }

  /** The topmost shape under (x, y), or -1. */
  function shapeAt(shapes, x, y) {
    for (var i = shapes.length - 1; i >= 0; i -= 1) if (contains(shapes[i], x, y)) return i;
    return -1;
  }

  /** Where a shape can be resized: the 8 handles of a box, or every point of a polygon. */
  function handles(shape) {
    if (shape.kind === 'pixels') return [];
    if (shape.kind === 'polygon') {
      return shape.points.map(function (p, index) {
        return { id: index, x: p[0], y: p[1] };
      });
    }
    var b = normalised(shape);
    var mx = (b.x0 + b.x1) / 2;
    var my = (b.y0 + b.y1) / 2;
    return [
      { id: 'nw', x: b.x0, y: b.y0 },
      { id: 'n', x: mx, y: b.y0 },
      { id: 'ne', x: b.x1, y: b.y0 },
      { id: 'e', x: b.x1, y: my },
      { id: 'se', x: b.x1, y: b.y1 },
      { id: 's', x: mx, y: b.y1 },
      { id: 'sw', x: b.x0, y: b.y1 },
      { id: 'w', x: b.x0, y: my },
    ];
  }

  /** The handle of `shape` within `reach` (in pixels of a width×height view) of (x, y), or null. */
  function handleAt(shape, x, y, width, height, reach) {
    var found = null;
    handles(shape).forEach(function (h) {
      if (!found && Math.abs(h.x - x) * width <= reach && Math.abs(h.y - y) * height <= reach) found = h.id;
    });
    return found;
  }

  /** `shape` moved by (dx, dy), kept within the image. */
  function moved(shape, dx, dy) {
    var b = bounds(shape);
    var ddx = Math.min(1 - b.x1, Math.max(-b.x0, dx));
    var ddy = Math.min(1 - b.y1, Math.max(-b.y0, dy));
    if (shape.kind === 'polygon') {
      return {
        kind: 'polygon',
        points: shape.points.map(function (p) {
          return [p[0] + ddx, p[1] + ddy];
        }),
      };
    }
    return box(shape.kind, shape.x0 + ddx, shape.y0 + ddy, shape.x1 + ddx, shape.y1 + ddy);
  }

  /** `shape` with its handle `id` dragged to (x, y), within the image. */
  function resized(shape, id, x, y) {
    x = clamp01(x);
    y = clamp01(y);
    if (shape.kind === 'polygon') {
      var points = shape.points.slice();
      points[id] = [x, y];
      return { kind: 'polygon', points: points };
    }
    var b = normalised(shape);
    var next = box(shape.kind, b.x0, b.y0, b.x1, b.y1);
    if (id.indexOf('w') !== -1) next.x0 = x;
    if (id.indexOf('e') !== -1) next.x1 = x;
    if (id.indexOf('n') !== -1) next.y0 = y;
    if (id.indexOf('s') !== -1) next.y1 = y;
    return next;
  }

  /** The coordinates the list shows, as stored: {x, y, width, height}, {cx, cy, rx, ry} or the points. */
  function coordinates(shape) {
    var stored = toStored(shape);
    if (shape.kind === 'polygon') return { points: stored.points };
    return stored;
  }

  return {
    MAX_SHAPES: MAX_SHAPES,
    problem: problem,
    readList: readList,
    writeList: writeList,
    box: box,
    normalised: normalised,
    bigEnough: bigEnough,
    bounds: bounds,
    shapeAt: shapeAt,
    handles: handles,
    handleAt: handleAt,
    moved: moved,
    resized: resized,
    coordinates: coordinates,
    clamp01: clamp01,
  };
})();
