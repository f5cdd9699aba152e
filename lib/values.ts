/**
 * How a field's value counts as given, as a number, and how a bad value is shown in a message: the same for
 * every option and input of the package, so every refusal reads alike and is rendered in the runtime's language.
 */
import { text, type Text } from './messages';

/** undefined, null and blank strings mean "not given": the default applies. */
export function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/** Numbers as they are, numeric strings (the editor saves strings) parsed; anything else undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value.trim());
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** A Buffer that went through JSON: `{ type: 'Buffer', data: [...] }`. Neither an image nor shapes. */
export function isJsonBuffer(value: unknown): boolean {
  const candidate = value as { type?: unknown; data?: unknown } | null;
  return (
    candidate !== null && typeof candidate === 'object' && candidate.type === 'Buffer' && Array.isArray(candidate.data)
  );
}

/** What the flow actually put there, in words, without dumping the value: "a number (14)", "a Buffer", "an object with keys a, b". */
export function describeValue(value: unknown): Text | string {
  if (value === undefined) return text('value.missing');
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return text('value.quoted', { text: value.length > 40 ? `${value.slice(0, 40)}…` : value });
  }
  if (Buffer.isBuffer(value)) return text('value.buffer');
  if (Array.isArray(value)) {
    return value.length === 1 ? text('value.arrayOne') : text('value.arrayOf', { count: value.length });
  }
  switch (typeof value) {
    case 'number':
      // A number, so the message writes it with its language's decimal separator.
      return text('value.number', { value: value as number });
    case 'boolean':
    case 'bigint':
      return text(`value.${typeof value}`, { value: String(value) });
    case 'symbol':
      return text('value.symbol');
    case 'function':
      return text('value.function');
    case 'object': {
      if (isJsonBuffer(value)) return text('value.jsonBuffer');
      if (ArrayBuffer.isView(value)) return text('value.typedArray', { type: value.constructor.name });
      const keys = Object.keys(value);
      if (keys.length === 0) return text('value.emptyObject');
      const shown = keys.slice(0, 5).join(', ');
      return text('value.objectWithKeys', { keys: `${shown}${keys.length > 5 ? ', …' : ''}` });
    }
    default:
      return text('value.other', { type: typeof value });
  }
}
