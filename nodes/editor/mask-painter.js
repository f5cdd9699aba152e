// The mask painter of the bfl-fill dialog: one <canvas> over a background picture (a file the user loads, or
// the node's last input), where shapes are drawn, selected, moved, resized and deleted with a mouse, a pen or
// a finger (pointer events), and from the keyboard. The markup is in nodes/bfl-fill.html; the shapes' rules
// are BflMaskShapes (./mask-shapes.js), the drawing BflMaskDrawing (./mask-drawing.js). The build pastes these
// files into the dialog's script.
/* global BflMaskShapes, BflMaskDrawing */
/* exported BflMaskPainter */
var BflMaskPainter = (function (Shapes) {
  'use strict';

  var MAX_HEIGHT = 420;
  /** How near (in CSS pixels) a pointer must come to a handle or to a polygon's first point. */
  var REACH = { mouse: 8, pen: 12, touch: 20 };
  var TOOLS = ['rect', 'ellipse', 'polygon', 'select'];
  var KEYS = { r: 'rect', e: 'ellipse', p: 'polygon', v: 'select' };

  /**
   * root: the painter's element (nodes/bfl-fill.html); options: { shapes: the node's maskShapes, t(key, params):
   * the catalog's text, num(n): a number in the editor's language }. Returns the painter's handle.
   */
  function create(root, options) {
    var canvas = root.querySelector('canvas');
    var stage = canvas.parentNode;
    var list = root.querySelector('.bfl-painter-list');
    var status = root.querySelector('.bfl-painter-status');
    var fileInput = root.querySelector('input[type="file"]');
    var ctx = canvas.getContext('2d');
    var t = options.t;
    // Shapes the painter cannot read (a flow edited by hand) are kept as they are until the user clears them.
    var unreadable = Shapes.readList(options.shapes) === null;
    // Until the user changes a shape, the node keeps its maskShapes exactly as saved (other forms included).
    var edited = false;
    var shapes = Shapes.readList(options.shapes) || [];
    var tool = 'rect';
    var selected = -1;
    var drag = null;
    var pending = [];
    var hover = null;
    var image = null;
    var background = 'none';
    var objectUrl = null;
    var width = 0;
    var height = 0;

    // In fractions of the drawing surface inside the border, whatever the zoom or a transform of the dialog.
    function pos(event) {
      var rect = canvas.getBoundingClientRect();
      var scale = rect.width / (canvas.offsetWidth || 1);
      return {
        x: Shapes.clamp01(((event.clientX - rect.left) / scale - canvas.clientLeft) / (canvas.clientWidth || 1)),
        y: Shapes.clamp01(((event.clientY - rect.top) / scale - canvas.clientTop) / (canvas.clientHeight || 1)),
      };
    }

    function reach(event) {
      return REACH[event.pointerType] || REACH.mouse;
    }

    function layout() {
      // Less the canvas's border, so it never overflows a narrow dialog.
      var available = Math.max(120, (stage.clientWidth || 400) - 2);
      var aspect = image ? image.naturalWidth / image.naturalHeight : 4 / 3;
      width = available;
      height = width / aspect;
      if (height > MAX_HEIGHT) {
        height = MAX_HEIGHT;
        width = height * aspect;
      }
      var dpr = window.devicePixelRatio || 1;
      canvas.style.width = width + 'px';
      canvas.style.height = height + 'px';
      canvas.width = Math.max(1, Math.round(width * dpr));
      canvas.height = Math.max(1, Math.round(height * dpr));
      render();
    }

    function render() {
      BflMaskDrawing.draw(ctx, {
        width: width,
        height: height,
        scale: canvas.width / (width || 1),
        image: image,
        shapes: shapes,
        selected: selected,
        draft: drag && drag.type === 'draw' ? drag.shape : null,
        pending: pending,
        hover: hover,
      });
    }

    function kindName(shape) {
      return t('painter.kind.' + shape.kind);
    }

    function describe(shape) {
      if (shape.kind === 'pixels') return JSON.stringify(shape.stored);
      var c = Shapes.coordinates(shape);
      if (c.points) {
        return c.points
          .map(function (p) {
            return '(' + options.num(p[0]) + '; ' + options.num(p[1]) + ')';
          })
          .join(' ');
      }
      return Object.keys(c)
        .map(function (key) {
          return key + ' ' + options.num(c[key]);
        })
        .join(', ');
    }

    function showList() {
      list.textContent = '';
      shapes.forEach(function (shape, index) {
        var item = document.createElement('li');
        item.className = 'bfl-painter-item' + (index === selected ? ' selected' : '');
        var pick = document.createElement('button');
        pick.type = 'button';
        pick.className = 'bfl-painter-pick';
        pick.setAttribute('data-shape-index', String(index));
        pick.textContent = t('painter.item', { number: index + 1, kind: kindName(shape) }) + ': ' + describe(shape);
        pick.addEventListener('click', function () {
          select(index);
        });
        var remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'red-ui-button red-ui-button-small bfl-painter-remove';
        remove.title = t('painter.action.delete');
        remove.setAttribute('aria-label', t('painter.action.delete') + ' ' + (index + 1));
        remove.innerHTML = '<i class="fa fa-times"></i>';
        remove.addEventListener('click', function () {
          removeShape(index);
        });
        item.appendChild(pick);
        item.appendChild(remove);
        list.appendChild(item);
      });
      root.setAttribute('data-shape-count', String(shapes.length));
      root.querySelector('[data-action="delete"]').disabled = selected < 0;
      root.querySelector('[data-action="clear"]').disabled = shapes.length === 0 && !unreadable;
      showStatus();
    }

    function showStatus() {
      var hint = pending.length > 0 ? t('painter.hint.polygonOpen') : t('painter.hint.' + tool);
      var warning = unreadable ? t('painter.unreadable') + ' ' : '';
      status.textContent = warning + t('painter.background.' + background) + ' ' + hint;
    }

    function changed() {
      showList();
      render();
    }

    /** After a change of the shapes themselves (not of the selection or the tool). */
    function edit() {
      edited = true;
      unreadable = false;
      changed();
    }

    function select(index) {
      selected = index;
      changed();
    }

    function removeShape(index) {
      shapes.splice(index, 1);
      selected = -1;
      edit();
    }

    function setTool(next) {
      tool = next;
      pending = [];
      root.querySelectorAll('[data-tool]').forEach(function (button) {
        var on = button.getAttribute('data-tool') === tool;
        button.classList.toggle('selected', on);
        button.setAttribute('aria-pressed', on ? 'true' : 'false');
      });
      changed();
    }

    function add(shape) {
      shapes.push(shape);
      selected = shapes.length - 1;
      edit();
    }

    function closePolygon() {
      if (pending.length >= 3) add({ kind: 'polygon', points: pending });
      pending = [];
      hover = null;
      changed();
    }

    function near(a, p, event) {
      return Math.abs(a[0] - p.x) * width <= reach(event) && Math.abs(a[1] - p.y) * height <= reach(event);
    }

    canvas.addEventListener('pointerdown', function (event) {
      if (event.pointerType === 'mouse' && event.button !== 0) return;
      event.preventDefault();
      canvas.focus();
      canvas.setPointerCapture(event.pointerId);
      var p = pos(event);
      var current = selected >= 0 ? shapes[selected] : null;
      var handle =
        current && pending.length === 0 ? Shapes.handleAt(current, p.x, p.y, width, height, reach(event)) : null;
      if (handle !== null) {
        drag = { type: 'resize', handle: handle, start: current };
      } else if (tool === 'select') {
        selected = Shapes.shapeAt(shapes, p.x, p.y);
        drag = selected >= 0 ? { type: 'move', from: p, start: shapes[selected] } : null;
        changed();
      } else if (tool === 'polygon') {
        if (pending.length >= 3 && near(pending[0], p, event)) closePolygon();
        else if (pending.length === 0 || !near(pending[pending.length - 1], p, event)) pending.push([p.x, p.y]);
        changed();
      } else {
        drag = { type: 'draw', shape: Shapes.box(tool, p.x, p.y, p.x, p.y) };
      }
    });

    canvas.addEventListener('pointermove', function (event) {
      var p = pos(event);
      if (pending.length > 0) {
        hover = p;
        render();
      }
      if (!drag) return;
      if (drag.type === 'draw') {
        drag.shape.x1 = p.x;
        drag.shape.y1 = p.y;
      } else if (drag.type === 'move') {
        shapes[selected] = Shapes.moved(drag.start, p.x - drag.from.x, p.y - drag.from.y);
      } else {
        shapes[selected] = Shapes.resized(drag.start, drag.handle, p.x, p.y);
      }
      render();
    });

    function endDrag() {
      if (!drag) return;
      var done = drag;
      drag = null;
      if (done.type === 'draw') {
        if (Shapes.bigEnough(done.shape, width, height)) add(Shapes.normalised(done.shape));
        else render();
        return;
      }
      if (selected >= 0 && shapes[selected].kind !== 'polygon') shapes[selected] = Shapes.normalised(shapes[selected]);
      // A click that moved nothing is only a selection.
      if (selected >= 0 && JSON.stringify(done.start) !== JSON.stringify(shapes[selected])) edit();
      else changed();
    }
    canvas.addEventListener('pointerup', endDrag);
    canvas.addEventListener('pointercancel', function () {
      if (drag && drag.type !== 'draw' && selected >= 0) shapes[selected] = drag.start;
      drag = null;
      changed();
    });
    canvas.addEventListener('dblclick', function () {
      if (tool === 'polygon') closePolygon();
    });

    canvas.addEventListener('keydown', function (event) {
      var handled = true;
      var step = event.shiftKey ? 0.1 : 0.01;
      var arrows = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if ((event.key === 'Delete' || event.key === 'Backspace') && selected >= 0) {
        removeShape(selected);
      } else if (event.key === 'Escape' && (pending.length > 0 || drag)) {
        if (drag && drag.type !== 'draw' && selected >= 0) shapes[selected] = drag.start;
        pending = [];
        drag = null;
        changed();
      } else if (event.key === 'Escape' && selected >= 0) {
        select(-1);
      } else if (event.key === 'Enter' && pending.length > 0) {
        closePolygon();
      } else if (arrows[event.key] && selected >= 0) {
        shapes[selected] = Shapes.moved(shapes[selected], arrows[event.key][0], arrows[event.key][1]);
        edit();
      } else if (KEYS[event.key] && !event.ctrlKey && !event.metaKey && !event.altKey) {
        setTool(KEYS[event.key]);
      } else {
        handled = false;
      }
      // Handled keys stay in the painter: Escape would otherwise close the dialog, Delete delete nodes.
      if (handled) {
        event.preventDefault();
        event.stopPropagation();
      }
    });

    root.querySelectorAll('[data-tool]').forEach(function (button) {
      button.addEventListener('click', function () {
        setTool(button.getAttribute('data-tool'));
        canvas.focus();
      });
    });
    root.querySelector('[data-action="delete"]').addEventListener('click', function () {
      if (selected >= 0) removeShape(selected);
    });
    root.querySelector('[data-action="clear"]').addEventListener('click', function () {
      shapes = [];
      pending = [];
      selected = -1;
      edit();
    });

    function setBackground(url, source) {
      var picture = new Image();
      picture.onload = function () {
        image = picture;
        background = source;
        root.setAttribute('data-background', source);
        layout();
        showStatus();
      };
      picture.onerror = function () {
        background = 'unreadable';
        showStatus();
      };
      picture.src = url;
    }

    root.querySelector('[data-action="load"]').addEventListener('click', function () {
      fileInput.click();
    });
    fileInput.addEventListener('change', function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(file);
      setBackground(objectUrl, 'file');
    });

    var observer = typeof ResizeObserver === 'function' ? new ResizeObserver(layout) : null;
    if (observer) observer.observe(stage);
    // A browser zoom changes the device pixel ratio, and the window's size with it.
    window.addEventListener('resize', layout);

    setTool(TOOLS[0]);
    layout();

    return {
      /** The shapes as the node stores them (maskShapes). */
      value: function () {
        return edited ? Shapes.writeList(shapes) : options.shapes;
      },
      /** The node's last input, unless the user loaded a picture of their own meanwhile. */
      showInput: function (url) {
        if (background !== 'file') setBackground(url, 'input');
      },
      resize: layout,
      destroy: function () {
        if (observer) observer.disconnect();
        window.removeEventListener('resize', layout);
        if (objectUrl) URL.revokeObjectURL(objectUrl);
      },
    };
  }

  return { create: create };
})(BflMaskShapes);
