/**
 * Idempotency keys for `assignAsync`, so a retried request never starts a second job.
 *
 * Made from `crypto.getRandomValues`, which (unlike `crypto.randomUUID`) browsers also offer
 * on plain-http pages.
 */

export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
