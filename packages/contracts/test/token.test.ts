import assert from 'node:assert/strict';
import { CONTRACT_ERROR, ContractError } from '../src/errors.js';
import { decodeToken, encodeToken, isPlainToken, MAX_TOKEN_BYTES } from '../src/token.js';

const RFC4475_METHOD = "!interesting-Method0123456789_*+`.%indeed'~";

/** A legal NATS subject token: non-empty, no `.`, `*`, `>` and no whitespace. */
function isLegalNatsToken(t: string): boolean {
  return t.length > 0 && !/[.*>\s]/.test(t);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ContractError);
    return e.code;
  }
  return undefined;
}

describe('contracts: subject token encoding', () => {
  it("round-trips RFC 4475's unusual method into one legal NATS token", () => {
    const token = encodeToken(RFC4475_METHOD);
    assert.equal(token, '%21interesting-Method0123456789_%2A%2B%60%2E%25indeed%27%7E');
    assert.ok(isLegalNatsToken(token));
    assert.equal(decodeToken(token), RFC4475_METHOD);
  });

  it('keeps plain tokens as they are (INVITE stays INVITE)', () => {
    for (const m of ['INVITE', 'ACK', 'a-b_c', 'x1']) {
      assert.equal(encodeToken(m), m);
      assert.ok(isPlainToken(m));
    }
    assert.equal(encodeToken('a.b'), 'a%2Eb');
    assert.equal(encodeToken('%'), '%25');
    assert.equal(encodeToken('a b>c*'), 'a%20b%3Ec%2A');
  });

  it('encodes UTF-8 bytes and decodes them back', () => {
    const s = 'héllo-世界';
    const t = encodeToken(s);
    assert.equal(t, 'h%C3%A9llo-%E4%B8%96%E7%95%8C');
    assert.equal(decodeToken(t), s);
  });

  it('is injective: distinct values never share a token', () => {
    const values = ['a.b', 'a%2Eb', 'a%b', 'a_b', 'a-b', 'A.B', '%25', '%'];
    const tokens = values.map(encodeToken);
    assert.equal(new Set(tokens).size, values.length);
    for (const [i, t] of tokens.entries()) assert.equal(decodeToken(t), values[i]);
  });

  it('round-trips every printable ASCII character', () => {
    for (let c = 0x21; c < 0x7f; c++) {
      const s = `x${String.fromCharCode(c)}y`;
      const t = encodeToken(s);
      assert.ok(isLegalNatsToken(t), `token for ${JSON.stringify(s)}: ${t}`);
      assert.equal(decodeToken(t), s);
    }
  });

  it('refuses empty and over-long values', () => {
    assert.equal(codeOf(() => encodeToken('')), CONTRACT_ERROR.token);
    assert.equal(codeOf(() => encodeToken('a'.repeat(MAX_TOKEN_BYTES + 1))), CONTRACT_ERROR.token);
    assert.equal(encodeToken('a'.repeat(MAX_TOKEN_BYTES)).length, MAX_TOKEN_BYTES);
  });

  it('decodes only the canonical form', () => {
    assert.equal(codeOf(() => decodeToken('')), CONTRACT_ERROR.token);
    assert.equal(codeOf(() => decodeToken('a%2eb')), CONTRACT_ERROR.token, 'lower-case hex');
    assert.equal(codeOf(() => decodeToken('%41')), CONTRACT_ERROR.token, 'escaped safe byte');
    assert.equal(codeOf(() => decodeToken('ab%2')), CONTRACT_ERROR.token, 'truncated escape');
    assert.equal(codeOf(() => decodeToken('a.b')), CONTRACT_ERROR.token, 'raw dot');
    assert.equal(codeOf(() => decodeToken('%FF')), CONTRACT_ERROR.token, 'invalid UTF-8');
    assert.equal(codeOf(() => decodeToken('%ZZ')), CONTRACT_ERROR.token, 'bad hex');
    assert.equal(codeOf(() => decodeToken('a'.repeat(MAX_TOKEN_BYTES + 1))), CONTRACT_ERROR.token, 'longer than encodeToken makes');
    assert.equal(decodeToken('a'.repeat(MAX_TOKEN_BYTES)).length, MAX_TOKEN_BYTES);
  });

  it('is one-to-one on UTF-16 too: a lone surrogate is refused, not folded into U+FFFD', () => {
    assert.equal(encodeToken('\uFFFD'), '%EF%BF%BD');
    assert.equal(codeOf(() => encodeToken('a\uD800')), CONTRACT_ERROR.token, 'lone high surrogate');
    assert.equal(codeOf(() => encodeToken('\uDC00b')), CONTRACT_ERROR.token, 'lone low surrogate');
    assert.equal(decodeToken(encodeToken('\u{1F600}')), '\u{1F600}');
  });
});
