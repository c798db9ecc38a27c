/**
 * How much metadata a key carries: its description, owner and custom
 * attributes are metadata, not a blob store. The wire schema refuses a
 * request past these before it is decoded further; the keychain checks them
 * again for every other caller (local mode, KMIP). It imports nothing, so
 * the codecs may import it too.
 */

/** Most custom attributes on one key: each one is a stored row. */
export const MAX_CUSTOM_ATTRIBUTES = 32;
/** Longest custom attribute name: names are short, safe in logs and KMIP names. */
export const MAX_ATTRIBUTE_NAME = 64;
/** What a custom attribute name is made of: letters, digits, ".", "_", "-", at most MAX_ATTRIBUTE_NAME of them. */
export const ATTRIBUTE_NAME_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_ATTRIBUTE_NAME}}$`);
/** Longest custom attribute value, and the owner. */
export const MAX_ATTRIBUTE_VALUE = 1024;
/** Longest key description. */
export const MAX_DESCRIPTION = 1024;
