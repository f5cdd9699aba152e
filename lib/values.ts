/** How a node field's value counts as given and as a number, the same for every option of the package. */

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
