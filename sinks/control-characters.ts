/**
 * The characters a CEF or LEEF record must never carry raw, and what they
 * become. Besides CR and LF (which each format escapes), a SIEM or the
 * terminal a record is read on treats these as structure, not text:
 *
 * - TAB: a field or pair separator to many CEF/LEEF readers and relays;
 * - the rest of C0 (U+0000-U+001F) and DEL: ESC starts terminal control
 *   sequences, NUL ends C strings, VT/FF break lines for some readers;
 * - C1 (U+0080-U+009F): NEL (U+0085) is a line break in Unicode, and CSI
 *   (U+009B) a one-byte ESC [ for terminals that read C1;
 * - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: line breaks to
 *   JavaScript, Java's regex `.`, and many viewers.
 *
 * CEF defines escapes only for `\`, `=`, `|`, CR and LF (and a strict
 * reader such as liblognorm refuses any other backslash sequence), so a
 * character that has no escape in a format is replaced by U+FFFD, the
 * Unicode replacement character: visible, one character for one, and
 * special to no reader. The audit trail itself keeps the exact value (the
 * SIEM copy is for alerting; `strongroom audit export` gives the original).
 * Pure.
 */

/** What a control character that its format cannot escape becomes. */
export const CONTROL_REPLACEMENT = '\uFFFD';

/** Every control character (as above), TAB, CR and LF included; each format escapes some first and replaces the rest. */
export const CONTROL_CHARACTER_CLASS = '\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029';

