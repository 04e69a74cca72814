/** The scope-token grammar of RFC 6749 §3.3, shared by whoever reads or registers a scope. */

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export const isScopeToken = (value: string): boolean => SCOPE_TOKEN.test(value);
