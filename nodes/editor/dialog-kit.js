/* exported bflDialogKit */
/**
 * What the dialogs of the job nodes (bfl-fill, bfl-expand) share: the node's defaults and inline validators from
 * its table of fields (lib/fields.ts), the engine's sentences for a refused value, and the part of
 * oneditprepare every such dialog runs (choices, hints, defaults, TypedInputs). The build (scripts/lib/fields.mjs)
 * pastes this file into each dialog's script in place of its dialog-kit marker, so each node set's editor file
 * stands alone, as Node-RED loads it; it also writes the form rows a template only lists by name, so Node-RED
 * fills and validates them as hand-written ones.
 *
 * type: the node type, whose catalog holds the dialog's own texts (hints, sections); FIELDS: its table.
 */
function bflDialogKit(type, FIELDS) {
  var PACKAGE = '@fluxfill/node-red-bfl/';
  var SOURCE_TYPES = ['msg', 'flow', 'global', 'env'];
  // The id of the node whose edit dialog is open: validators read that node's unsaved "...Type" fields.
  var editingId = null;

  function t(key, opts) {
    return RED._(PACKAGE + type + ':' + type + '.' + key, opts);
  }

  // The bfl-fill catalog: the runtime's messages (lib/messages, merged under bfl-fill.messages), whose field
  // labels and refusals are the engine's own, and the vocabulary every job node shares (formats, units).
  function shared(key, opts) {
    return RED._(PACKAGE + 'bfl-fill:bfl-fill.' + key, opts);
  }

  function message(key, opts) {
    return shared('messages.field.' + key, opts);
  }

  function label(name) {
    return message('label.' + name);
  }

  function text(v) {
    return v === undefined || v === null ? '' : String(v).trim();
  }

  // A number as the editor's language writes it (1,5 in German).
  function num(n) {
    var lang = RED.i18n && typeof RED.i18n.lang === 'function' ? RED.i18n.lang() : undefined;
    try {
      return Number(n).toLocaleString(lang, { useGrouping: false, maximumFractionDigits: 6 });
    } catch (err) {
      return String(n);
    }
  }

  function rangeParams(field) {
    if (field.min === undefined) {
      return {};
    }
    return { min: num(field.min), max: num(field.max), default: field.default === '' ? '' : num(field.default) };
  }

  function currentType(node, typeProp, fallback) {
    if (node && node.id === editingId) {
      var input = $('#node-input-' + typeProp);
      if (input.length && input.val()) {
        return input.val();
      }
    }
    return (node && node[typeProp]) || fallback;
  }

  // The engine's rule for a literal (lib/fields.ts): empty takes the default; numbers parse as Number() does.
  function literalOk(field, s) {
    if (s === '' || field.kind === 'text') {
      return true;
    }
    if (field.kind === 'boolean') {
      return s === 'true' || s === 'false';
    }
    if (field.kind === 'choice') {
      var given = s.toLowerCase();
      var aliases = field.aliases || {};
      return field.choices.indexOf(aliases[given] || given) !== -1;
    }
    var n = Number(s);
    if (!isFinite(n)) {
      return false;
    }
    if (field.zeroMeansEmpty && n === 0) {
      return true;
    }
    return n >= field.min && n <= field.max && (field.kind !== 'integer' || Math.floor(n) === n);
  }

  // The engine's sentence for a refused literal, with the value as typed.
  function literalProblem(name, field, s) {
    var params = rangeParams(field);
    params.name = label(name);
    params.value = s !== '' && isFinite(Number(s)) ? s : shared('messages.value.quoted', { text: s });
    if (field.kind === 'boolean') {
      return message('boolean', params);
    }
    if (field.kind === 'choice') {
      params.choices = field.choices.join(', ');
      return message('choice', params);
    }
    var orEmpty = field.default === '' ? 'OrEmpty' : '';
    if (field.kind === 'integer' && field.max === Number.MAX_SAFE_INTEGER) {
      return message('wholeNumberFrom' + orEmpty, params);
    }
    return message((field.kind === 'integer' ? 'wholeNumberRange' : 'numberRange') + orEmpty, params);
  }

  /**
   * Validator of one field. A TypedInput reading msg/flow/global/env needs a non-empty, well-formed name; a
   * literal is checked by the table. A property saved without its companion type (hand-written or older
   * flows) is a literal; a missing property is valid (the runtime uses its default).
   */
  function validator(name, field) {
    return function (v, opt) {
      if (v === undefined || v === null) {
        return true;
      }
      var s = text(v);
      var type = field.typedInput ? currentType(this, name + 'Type', field.typedInput) : field.typedInput;
      if (SOURCE_TYPES.indexOf(type) === -1) {
        if (literalOk(field, s)) {
          return true;
        }
        return opt ? literalProblem(name, field, s) : false;
      }
      if (s === '') {
        return opt ? shared('validation.emptySource', { field: label(name) }) : false;
      }
      if (type !== 'env') {
        var valid = RED.utils.validatePropertyExpression(s, opt ? {} : null);
        if (valid !== true) {
          return opt ? shared('validation.badSource', { field: label(name), error: valid || '' }) : false;
        }
      }
      return true;
    };
  }

  /**
   * Valid when every shape has the fields of one kind the engine reads (lib/image/shapes), as the mask painter's
   * model (nodes/editor/mask-shapes.js, pasted into the dialogs that draw) checks them.
   */
  function shapesValidator(name) {
    return function (v, opt) {
      /* global BflMaskShapes */
      var problem = BflMaskShapes.problem(v);
      if (!problem) {
        return true;
      }
      if (!opt) {
        return false;
      }
      if (problem.index < 0) {
        return message('shapes', { name: label(name), value: JSON.stringify(v) });
      }
      return shared('messages.shapes.notShape', {
        where: shared('messages.shapes.where', { path: name + '[' + problem.index + ']' }),
        value: JSON.stringify(problem.shape),
        forms: shared('messages.shapes.forms'),
      });
    };
  }

  function nodeDefaults() {
    var defaults = {};
    Object.keys(FIELDS).forEach(function (name) {
      var field = FIELDS[name];
      if (field.kind === 'node') {
        defaults[name] = { value: field.default, type: field.nodeType, required: true };
        return;
      }
      if (field.kind === 'shapes') {
        defaults[name] = { value: field.default, validate: shapesValidator(name) };
        return;
      }
      defaults[name] = { value: field.default };
      if (field.kind !== 'text' || field.typedInput) {
        defaults[name].validate = validator(name, field);
      }
      if (field.typedInput) {
        defaults[name + 'Type'] = { value: field.typedInput };
      }
    });
    return defaults;
  }

  /** The part of oneditprepare every job node's dialog runs; `node` is the node being edited. */
  function prepare(node) {
    editingId = node.id;
    // The choices of the selects, from the table; their labels from the catalog.
    FIELDS.outputFormat.choices.forEach(function (choice) {
      $('<option>')
        .val(choice)
        .text(shared('format.' + choice))
        .appendTo('#node-input-outputFormat');
    });
    for (var level = FIELDS.safetyTolerance.min; level <= FIELDS.safetyTolerance.max; level += 1) {
      $('<option>')
        .val(String(level))
        .text(shared('tolerance.' + level))
        .appendTo('#node-input-safetyTolerance');
    }
    // Hints quote the table's ranges and defaults in the editor's language.
    $('#dialog-form [data-bfl-hint]').each(function () {
      var name = $(this).attr('data-bfl-hint');
      $(this).text(t('hint.' + name, FIELDS[name] ? rangeParams(FIELDS[name]) : {}));
    });
    $('#node-input-timeout').attr('placeholder', num(FIELDS.timeout.default));

    // Properties missing from older or hand-written flows: show the defaults the runtime would use.
    Object.keys(FIELDS).forEach(function (name) {
      var field = FIELDS[name];
      var input = $('#node-input-' + name);
      if (field.kind === 'boolean' && !field.typedInput) {
        if (node[name] === undefined) {
          input.prop('checked', field.default);
        }
      } else if (field.kind !== 'node' && (node[name] === undefined || node[name] === null)) {
        input.val(String(field.default));
      } else if (field.kind === 'choice' || field.kind === 'integer') {
        // Values saved as numbers still select the right option.
        input.val(String(node[name]));
      }
    });

    // Each TypedInput's literal type; all of them can also come from msg, context or env.
    Object.keys(FIELDS).forEach(function (name) {
      var literal = FIELDS[name].typedInput;
      if (literal) {
        $('#node-input-' + name).typedInput({
          default: literal,
          types: [literal].concat(SOURCE_TYPES),
          typeField: '#node-input-' + name + 'Type',
        });
      }
    });

    function showEmulatorTip() {
      var config = RED.nodes.node($('#node-input-config').val());
      $('#' + type + '-emulator-tip').toggle(!!config && config.region === 'emulator');
    }
    $('#node-input-config').on('change', showEmulatorTip);
    showEmulatorTip();
  }

  /** Whether `node`'s dialog is open: its unsaved inputs then hold its values. */
  function isEditing(node) {
    return !!node && node.id === editingId;
  }

  /** The dialog closed (saved, cancelled or deleted). */
  function done() {
    editingId = null;
  }

  return {
    t: t,
    shared: shared,
    message: message,
    label: label,
    isEditing: isEditing,
    num: num,
    rangeParams: rangeParams,
    nodeDefaults: nodeDefaults,
    prepare: prepare,
    done: done,
  };
}
