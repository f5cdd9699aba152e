// What the mask painter's <canvas> shows (nodes/editor/mask-painter.js): the picture, the shapes filled and
// outlined, the one being drawn, an open polygon, and the handles of the selected shape. Colours that read on
// any picture and in any theme: a translucent pink fill (the preview's outline colour) and a dark line under
// a bright one. The build pastes this file into nodes/bfl-fill.html.
/* global BflMaskShapes */
/* exported BflMaskDrawing */
var BflMaskDrawing = (function (Shapes) {
  'use strict';

  var FILL = 'rgba(255, 64, 160, 0.35)';
  var LINE = '#ff40a0';

  function outline(ctx, shape, width, height) {
    ctx.beginPath();
    if (shape.kind === 'polygon') {
      shape.points.forEach(function (p, i) {
        if (i === 0) ctx.moveTo(p[0] * width, p[1] * height);
        else ctx.lineTo(p[0] * width, p[1] * height);
      });
      ctx.closePath();
      return;
    }
    var b = Shapes.normalised(shape);
    if (shape.kind === 'rect') {
      ctx.rect(b.x0 * width, b.y0 * height, (b.x1 - b.x0) * width, (b.y1 - b.y0) * height);
    } else {
      var rx = ((b.x1 - b.x0) / 2) * width;
      var ry = ((b.y1 - b.y0) / 2) * height;
      ctx.ellipse(b.x0 * width + rx, b.y0 * height + ry, rx, ry, 0, 0, 2 * Math.PI);
    }
  }

  /** The current path, dashed white for the selected or unfinished shape. */
  function stroke(ctx, dashed) {
    ctx.setLineDash([]);
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.7)';
    ctx.stroke();
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = dashed ? '#ffffff' : LINE;
    ctx.stroke();
    ctx.setLineDash([]);
  }

  function filled(ctx, shape, width, height, dashed) {
    outline(ctx, shape, width, height);
    ctx.fillStyle = FILL;
    ctx.fill();
    stroke(ctx, dashed);
  }

  function dot(ctx, x, y) {
    ctx.fillStyle = '#ffffff';
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = 1;
    ctx.fillRect(x - 4, y - 4, 8, 8);
    ctx.strokeRect(x - 4, y - 4, 8, 8);
  }

  /**
   * state: { width, height (CSS pixels), scale (device pixels per CSS pixel), image, shapes, selected (index or
   * -1), draft (the shape being dragged out, or null), pending (an open polygon's points), hover (the pointer) }.
   */
  function draw(ctx, state) {
    var width = state.width;
    var height = state.height;
    ctx.setTransform(state.scale, 0, 0, state.scale, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (state.image) ctx.drawImage(state.image, 0, 0, width, height);
    state.shapes.forEach(function (shape, index) {
      if (shape.kind !== 'pixels') filled(ctx, shape, width, height, index === state.selected);
    });
    if (state.draft) filled(ctx, state.draft, width, height, true);
    if (state.pending.length > 0) {
      ctx.beginPath();
      state.pending.concat(state.hover ? [[state.hover.x, state.hover.y]] : []).forEach(function (p, i) {
        if (i === 0) ctx.moveTo(p[0] * width, p[1] * height);
        else ctx.lineTo(p[0] * width, p[1] * height);
      });
      stroke(ctx, true);
      state.pending.forEach(function (p) {
        dot(ctx, p[0] * width, p[1] * height);
      });
    }
    if (state.selected >= 0) {
      Shapes.handles(state.shapes[state.selected]).forEach(function (h) {
        dot(ctx, h.x * width, h.y * height);
      });
    }
  }

  return { draw: draw };
})(BflMaskShapes);
