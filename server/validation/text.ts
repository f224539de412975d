/**
 * How Roster measures and checks text. Every limit on a string is counted
 * here, in Unicode code points (what a person calls characters; an emoji is
 * one, where JavaScript's `length` counts two UTF-16 units).
 */

/** What a text field may hold. */
export interface TextRule {
  /** Most code points. */
  maxChars: number;
  /**
   * Free text over several lines: tab, line feed and carriage return are
   * allowed. Other fields allow no control character at all.
   */
  multiline?: boolean;
  /**
   * A secret (password): any character, as NIST SP 800-63B asks, so that
   * no password that worked before stops working. Still bounded and
   * well-formed.
   */
  secret?: boolean;
  /** What else the text must be (an id, an address), as a problem or undefined. */
  shape?: (text: string) => string | undefined;
}

/** The number of Unicode code points of `text`. */
export function codePointCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point in two units.
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** Whether `text` is longer than `max` code points (without counting past it). */
export function longerThan(text: string, max: number): boolean {
  // Each code point is at least one UTF-16 unit and at most two.
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  return codePointCount(text) > max;
}

/**
 * Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F).
 * They are invisible or move the cursor, NUL ends strings in C, and none
 * belongs in a name, an id or an address.
 */
const controlCharacter = /\p{Cc}/u;
const controlCharacterExceptLineBreaks = /(?![\t\n\r])\p{Cc}/u;

/** A UTF-16 surrogate that is not half of a pair (in a `u` regex, pairs are one code point). */
const loneSurrogate = /\p{Cs}/u;

/** Why `text` breaks `rule`, or undefined. */
export function textProblem(text: string, rule: TextRule): string | undefined {
  if (longerThan(text, rule.maxChars)) return `must be at most ${rule.maxChars} characters`;
  // A lone surrogate is not a character: stored as UTF-8 it becomes U+FFFD,
  // so two different inputs would be the same value.
  if (loneSurrogate.test(text)) return "must be valid Unicode text (it has a lone surrogate)";
  if (rule.secret) return undefined;
  const shape = rule.shape?.(text);
  if (shape) return shape;
  const control = rule.multiline ? controlCharacterExceptLineBreaks : controlCharacter;
  if (control.test(text)) {
    return rule.multiline
      ? "must not contain control characters other than tab and line breaks"
      : "must not contain control characters (such as NUL, tab or line breaks)";
  }
  return undefined;
}
