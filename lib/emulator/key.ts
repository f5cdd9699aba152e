/**
 * The emulator's default API key, kept free of imports: the engine reads it for every region, but loads the rest
 * of the emulator (servers, sharp) only when the `emulator` region is used.
 */

/** A key any emulator accepts when it was started without `keys`; the `emulator` region uses it. */
export const DEFAULT_EMULATOR_KEY = 'bfl_emulator_local_key';
