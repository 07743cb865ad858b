import { describe, expect, it } from 'vitest';
import { haproxy18, haproxy26 } from '../../test/support/fixtures.ts';
import { splitReplies } from './framing.ts';

describe('splitReplies', () => {
  it('gives one reply per command of a `;` line (1.8.30)', () => {
    const t = haproxy18('10-set-srv2-addr-ready-semicolon.txt');
    expect(splitReplies(t.reply, 2)).toEqual({
      replies: ["IP changed from '127.0.0.1' to '127.0.1.2', port changed from '9' to '8081' by 'stats socket command'", ''],
      complete: true,
    });
  });

  it('keeps an empty reply between two others (2.6)', () => {
    expect(splitReplies(haproxy26('mixed-errors.txt'), 3)).toEqual({
      replies: ['', 'No such server.', 'Absolute weight can only be between 0 and 256 inclusive.'],
      complete: true,
    });
  });

  it('does not trust a last reply that lacks its empty line: it may have been cut', () => {
    expect(splitReplies("\nIP changed from '127.0.0.1'", 2)).toEqual({ replies: ['', "IP changed from '127.0.0.1'"], complete: false });
    expect(splitReplies('Name: HAProxy\n\n1\n# be', 2).complete).toBe(false);
  });

  it('gives one reply per command when a known message lacks its newline (1.8 weight errors)', () => {
    // 1.8 prints "Trailing garbage in weight string" with no newline: only the separator's follows.
    expect(
      splitReplies("Trailing garbage in weight string\nIP changed from '127.0.0.1' to '10.0.0.1' by 'stats socket command'\n\n\n", 3),
    ).toEqual({
      replies: ['Trailing garbage in weight string', "IP changed from '127.0.0.1' to '10.0.0.1' by 'stats socket command'", ''],
      complete: true,
    });
  });

  it("reads 2.4's refusal of a keyword on add server, which lacks its newline, as one reply", () => {
    expect(splitReplies("'check' option is not accepted for dynamic server\nNo such server.\n\n", 2)).toEqual({
      replies: ["'check' option is not accepted for dynamic server", 'No such server.'],
      complete: true,
    });
  });

  it('still reads a known message that does end with its empty line', () => {
    expect(splitReplies('No such backend.\n\n\n', 2)).toEqual({ replies: ['No such backend.', ''], complete: true });
  });

  it('says framing is lost when an unknown reply lacks its empty line', () => {
    expect(splitReplies('Some new message\nIP changed from a to b\n\n', 2).complete).toBe(false);
  });

  it('says framing is lost when HAProxy closed without a word (line over tune.bufsize)', () => {
    expect(splitReplies('', 3)).toEqual({ replies: [], complete: false });
  });
});
