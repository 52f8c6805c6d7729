/** @module Generates `lw-…` keys, hashes them and derives the display prefix; shared by CLI and daemon. */
import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'lw-';
/** Characters of the key shown in lists (`lw-` + 8), enough to tell keys apart, useless to an attacker. */
const DISPLAY_CHARS = 11;

/**
 * A new plaintext key: `lw-` + 32 random bytes in base64url (43 characters).
 * @example generateApiKey() // 'lw-Zp4…'
 */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** sha256 hex of the plaintext key; the only form the store keeps. */
export function hashApiKey(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('hex');
}

/** `lw-ab12cd34…`: what lists and logs show instead of the key. */
export function displayPrefix(plaintext: string): string {
  return plaintext.slice(0, DISPLAY_CHARS);
}

/** True when a string has the shape of an lw key (cheap pre-check before hashing). */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX) && value.length >= 40 && value.length <= 128;
}
