/**
 * Optional tuning from Node-RED's settings.js, named after the config node (`bflConfig...`). Users rarely
 * need them; tests use them to poll fast against the emulator.
 */
import type { AccountTuning } from '../lib/engine/account';

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function tuningFromSettings(settings: unknown): AccountTuning {
  const read = (name: string): unknown => (settings as Record<string, unknown> | undefined)?.[name];
  const tuning: AccountTuning = {};
  const pollInterval = positiveNumber(read('bflConfigPollInterval'));
  if (pollInterval !== undefined)
    tuning.pollSchedule = { initialMs: pollInterval, maxMs: Math.max(pollInterval, 3_000) };
  const retryDelay = positiveNumber(read('bflConfigRetryDelay'));
  if (retryDelay !== undefined) tuning.retry = { baseDelayMs: retryDelay, maxDelayMs: retryDelay * 16 };
  const maxQueued = positiveNumber(read('bflConfigMaxQueued'));
  if (maxQueued !== undefined) tuning.maxQueued = Math.floor(maxQueued);
  const journalCap = positiveNumber(read('bflConfigJournalCapMB'));
  if (journalCap !== undefined) tuning.journalCapBytes = Math.round(journalCap * 1024 * 1024);
  const webhookFallback = positiveNumber(read('bflConfigWebhookFallback'));
  if (webhookFallback !== undefined) tuning.webhookFallbackMs = webhookFallback;
  const emulator = read('bflConfigEmulator');
  if (emulator && typeof emulator === 'object') tuning.emulator = emulator as AccountTuning['emulator'];
  return tuning;
}
