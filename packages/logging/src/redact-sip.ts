/**
 * Masks credentials in raw SIP text before it is logged: the values of Authorization and
 * Proxy-Authorization header fields (including folded continuation lines) become
 * `<scheme> [redacted]`. The body (after the first empty line that follows the start line) is left
 * as it is.
 */

const CREDENTIAL_HEADER = /^(authorization|proxy-authorization)[ \t]*:[ \t]*([A-Za-z][A-Za-z0-9._-]*)?/i;
const CENSOR = '[redacted]';

export function redactSipText(text: string): string {
  if (!/authorization/i.test(text)) return text;
  const parts = text.split(/(\r\n|\n|\r)/);
  let masking = false;
  let started = false;
  let out = '';
  for (let i = 0; i < parts.length; i += 2) {
    const line = parts[i] ?? '';
    const eol = parts[i + 1] ?? '';
    if (line === '' && !started) {
      // Line ends before the start line (RFC 3261 §7.5) do not end the header section.
      out += eol;
      continue;
    }
    started = true;
    if (line === '') {
      // End of the header section: the rest is the body, untouched.
      out += eol + parts.slice(i + 2).join('');
      return out;
    }
    if (masking && (line.startsWith(' ') || line.startsWith('\t'))) {
      out += line.replace(/\S.*$/, CENSOR) + eol;
      continue;
    }
    const m = CREDENTIAL_HEADER.exec(line);
    if (m !== null) {
      masking = true;
      const scheme = m[2];
      const name = line.slice(0, line.indexOf(':') + 1);
      out += `${name} ${scheme === undefined ? '' : `${scheme} `}${CENSOR}${eol}`;
      continue;
    }
    masking = false;
    out += line + eol;
  }
  return out;
}
