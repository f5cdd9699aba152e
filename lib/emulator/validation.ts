/**
 * Request-body validation the way FastAPI + Pydantic v2 (lax mode, JSON input) do it, so clients meet the same
 * 422 shapes here as against the real API: `{"detail":[{type, loc, msg, input, ctx?}, ...]}`.
 * The coercions follow pydantic-core's JSON input rules (e.g. ints accept 20, 20.0, "20" and even `true`;
 * 20.5 is `int_from_float`), the messages are Pydantic's own.
 */

export interface ValidationErrorItem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export type OutputFormat = 'jpeg' | 'png' | 'webp';

/** The submit endpoints the emulator serves: FLUX.1 Fill [pro], its fine-tuned variant, and Expand [pro]. */
export type EmulatedModel = 'fill' | 'finetuned' | 'expand';

/** Pixels an expand adds on each side. */
export interface ExpandSides {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface FillParams {
  model: EmulatedModel;
  image: string;
  /** Always null for an expand, which takes no mask. */
  mask: string | null;
  /** Fine-tuned fill only. */
  finetune: { id: string; strength: number } | null;
  /** Expand only. */
  sides: ExpandSides | null;
  prompt: string;
  steps: number;
  promptUpsampling: boolean;
  seed: number | null;
  guidance: number;
  outputFormat: OutputFormat;
  safetyTolerance: number;
  webhookUrl: string | null;
  webhookSecret: string | null;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; detail: ValidationErrorItem[] };

const OUTPUT_FORMATS: readonly OutputFormat[] = ['jpeg', 'png', 'webp'];

/** What FastAPI hands to the model: parsed JSON, nothing, raw text (non-JSON content type), or a decode error. */
export type RequestBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'none' }
  | { kind: 'text'; value: string }
  | { kind: 'invalid'; detail: ValidationErrorItem[] };

export function decodeRequestBody(raw: Buffer, contentType: string | undefined): RequestBody {
  if (raw.length === 0) return { kind: 'none' };
  // FastAPI parses JSON when there is no content type or an application/json / application/*+json one.
  if (contentType !== undefined && contentType.trim() !== '') {
    const mime = contentType.split(';')[0]!.trim().toLowerCase();
    const isJson = mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
    if (!isJson) return { kind: 'text', value: raw.toString('utf8') };
  }
  const text = raw.toString('utf8');
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    return {
      kind: 'invalid',
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', position ? Number(position[1]) : 0],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: message },
        },
      ],
    };
  }
}

type Field<T> = { ok: true; value: T } | { ok: false; error: Omit<ValidationErrorItem, 'loc'> };

const ok = <T>(value: T): Field<T> => ({ ok: true, value });
const fail = <T>(type: string, msg: string, input: unknown, ctx?: Record<string, unknown>): Field<T> => ({
  ok: false,
  error: ctx ? { type, msg, input, ctx } : { type, msg, input },
});

function parseStr(input: unknown): Field<string> {
  return typeof input === 'string' ? ok(input) : fail('string_type', 'Input should be a valid string', input);
}

function parseInt_(input: unknown): Field<number> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return fail('finite_number', 'Input should be a finite number', input);
    if (!Number.isInteger(input)) {
      return fail('int_from_float', 'Input should be a valid integer, got a number with a fractional part', input);
    }
    return ok(input);
  }
  if (typeof input === 'boolean') return ok(input ? 1 : 0);
  if (typeof input === 'string') {
    // pydantic-core: trims, drops leading zeros and an all-zero fraction ("20.0"), allows single underscores.
    const match = /^(-?)0*(\d+(?:_\d+)*)(?:\.0+)?$/.exec(input.trim());
    if (match) {
      const value = Number(match[1]! + match[2]!.replace(/_/g, ''));
      if (Number.isFinite(value)) return ok(value);
    }
    return fail('int_parsing', 'Input should be a valid integer, unable to parse string as an integer', input);
  }
  return fail('int_type', 'Input should be a valid integer', input);
}

function parseFloat_(input: unknown): Field<number> {
  if (typeof input === 'number') return ok(input);
  if (typeof input === 'boolean') return ok(input ? 1 : 0);
  if (typeof input === 'string') {
    const text = input.trim();
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return ok(Number(text));
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
    if (special) {
      if (special[2]!.toLowerCase() === 'nan') return ok(Number.NaN);
      return ok(special[1] === '-' ? -Infinity : Infinity);
    }
    return fail('float_parsing', 'Input should be a valid number, unable to parse string as a number', input);
  }
  return fail('float_type', 'Input should be a valid number', input);
}

function parseBool(input: unknown): Field<boolean> {
  if (typeof input === 'boolean') return ok(input);
  if (typeof input === 'number') {
    if (!Number.isInteger(input)) return fail('bool_type', 'Input should be a valid boolean', input);
    if (input === 0 || input === 1) return ok(input === 1);
    return fail('bool_parsing', 'Input should be a valid boolean, unable to interpret input', input);
  }
  if (typeof input === 'string') {
    const lower = input.toLowerCase();
    if (['0', 'f', 'n', 'no', 'off', 'false'].includes(lower)) return ok(false);
    if (['1', 't', 'y', 'on', 'yes', 'true'].includes(lower)) return ok(true);
    return fail('bool_parsing', 'Input should be a valid boolean, unable to interpret input', input);
  }
  return fail('bool_type', 'Input should be a valid boolean', input);
}

function parseEnum<T extends string>(input: unknown, values: readonly T[]): Field<T> {
  if (typeof input === 'string' && (values as readonly string[]).includes(input)) return ok(input as T);
  const quoted = values.map((v) => `'${v}'`);
  const expected = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted[0];
  return fail('enum', `Input should be ${expected}`, input, { expected });
}

/** Pydantic's HttpUrl: http(s) only, at most 2083 characters. */
function parseHttpUrl(input: unknown): Field<string> {
  if (typeof input !== 'string') return fail('url_type', 'URL input should be a string or URL', input);
  if (input.length > 2083) {
    return fail('url_too_long', 'URL should have at most 2083 characters', input, { max_length: 2083 });
  }
  const urlError = (error: string) =>
    fail<string>('url_parsing', `Input should be a valid URL, ${error}`, input, { error });
  if (input.trim() === '') return urlError('input is empty');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(input.trim())) return urlError('relative URL without a base');
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return urlError('invalid international domain name');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('url_scheme', "URL scheme should be 'http' or 'https'", input, {
      expected_schemes: "'http' or 'https'",
    });
  }
  if (url.hostname === '') return urlError('empty host');
  return ok(input);
}

function bounded(field: Field<number>, ge: number, le: number): Field<number> {
  if (!field.ok) return field;
  const value = field.value;
  if (!(value >= ge))
    return fail('greater_than_equal', `Input should be greater than or equal to ${ge}`, value, { ge });
  if (!(value <= le)) return fail('less_than_equal', `Input should be less than or equal to ${le}`, value, { le });
  return field;
}

/**
 * The fields of FluxProFillInputs, FluxProFillFinetunedInputs or FluxProExpandInputs in the OpenAPI's order,
 * which is the order Pydantic reports errors in. The fine-tuned fill's prompt, steps, guidance and
 * prompt_upsampling are not nullable; an expand has four sides (0..2048) and no mask.
 */
export function validateFillBody(body: RequestBody, model: EmulatedModel = 'fill'): Validated<FillParams> {
  if (body.kind === 'invalid') return { ok: false, detail: body.detail };
  if (body.kind === 'none') {
    return { ok: false, detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] };
  }
  const input = body.value;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      detail: [
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input,
        },
      ],
    };
  }
  const data = input as Record<string, unknown>;
  const errors: ValidationErrorItem[] = [];
  const has = (name: string) => Object.prototype.hasOwnProperty.call(data, name);

  function take<T>(name: string, parse: (value: unknown) => Field<T>, fallback: T, nullable = true): T {
    if (!has(name)) return fallback;
    const raw = data[name];
    if (raw === null && nullable) return fallback;
    const result = parse(raw);
    if (result.ok) return result.value;
    const { type, msg, input: given, ctx } = result.error;
    errors.push(
      ctx ? { type, loc: ['body', name], msg, input: given, ctx } : { type, loc: ['body', name], msg, input: given },
    );
    return fallback;
  }

  const required = (name: string, parse: (value: unknown) => Field<string>): string => {
    if (has(name)) return take(name, parse, '', false);
    errors.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: data });
    return '';
  };
  const finetuned = model === 'finetuned';
  const finetuneId = finetuned ? required('finetune_id', parseStr) : '';
  const finetuneStrength = finetuned ? take('finetune_strength', (v) => bounded(parseFloat_(v), 0, 2), 1.1) : 0;
  const image = required('image', parseStr);
  const mask = model === 'expand' ? null : take<string | null>('mask', parseStr, null);
  const side = (name: string) => take(name, (v) => bounded(parseInt_(v), 0, 2048), 0);
  const sides =
    model === 'expand' ? { top: side('top'), bottom: side('bottom'), left: side('left'), right: side('right') } : null;
  const prompt = take('prompt', parseStr, '', !finetuned);
  const steps = take('steps', (v) => bounded(parseInt_(v), 15, 50), 50, !finetuned);
  const promptUpsampling = take('prompt_upsampling', parseBool, false, !finetuned);
  const seed = take<number | null>('seed', parseInt_, null);
  const guidance = take('guidance', (v) => bounded(parseFloat_(v), 1.5, 100), 60, !finetuned);
  const outputFormat = take<OutputFormat>('output_format', (v) => parseEnum(v, OUTPUT_FORMATS), 'jpeg');
  const safetyTolerance = take('safety_tolerance', (v) => bounded(parseInt_(v), 0, 6), 2, false);
  const webhookUrl = take<string | null>('webhook_url', parseHttpUrl, null);
  const webhookSecret = take<string | null>('webhook_secret', parseStr, null);

  if (errors.length > 0) return { ok: false, detail: errors };
  return {
    ok: true,
    value: {
      model,
      image,
      mask,
      finetune: finetuned ? { id: finetuneId, strength: finetuneStrength } : null,
      sides,
      prompt,
      steps,
      promptUpsampling,
      seed,
      guidance,
      outputFormat,
      safetyTolerance,
      webhookUrl,
      webhookSecret,
    },
  };
}
