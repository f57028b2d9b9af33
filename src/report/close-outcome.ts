// Which end of a client's connections should end in TIME_WAIT, from how the connection model tells each to
// close: the closer's FIN must be answered by the other end's FIN, and neither may reset.
import type { Accept, Dial } from '../core/connection-model.ts';

export interface CloseOutcome {
  /** The end expected to hold TIME_WAIT, or 'none'. */
  readonly holder: 'client' | 'server' | 'none';
  /** The end told to close first (the dial's closer). */
  readonly closer: 'client' | 'server';
  /** Why, in words naming the options. */
  readonly why: string;
  /** The client keeps its ports held by open sockets (it never closes). */
  readonly clientHoldsOpen: boolean;
  /** The closer's FIN is never answered by the other end (closeStyle never there): FIN_WAIT_2 on the closer. */
  readonly unanswered?: boolean;
}

/** `dial`: the client's connections; `server`: what the dialled actor accepts (absent: unknown, taken as graceful). */
export function closeOutcome(dial: Dial, server: Accept | undefined): CloseOutcome {
  const closer = dial.closer;
  const other = closer === 'client' ? 'server' : 'client';
  const serverStyle = server?.closeStyle;
  const [closerStyle, otherStyle] =
    closer === 'client' ? [dial.closeStyle, serverStyle] : [serverStyle, dial.closeStyle];
  const clientHoldsOpen = dial.closeStyle === 'never';
  if (closerStyle === 'never') {
    return {
      holder: 'none',
      closer,
      why: `the ${closer} is to close first and its closeStyle is never: no FIN, each connection held open`,
      clientHoldsOpen,
    };
  }
  // A close by RST (SO_LINGER 0, close(2) with a request body unread, data written to a closed server) skips TIME_WAIT on both ends.
  if (closerStyle === 'rst')
    return {
      holder: 'none',
      closer,
      why: `the ${closer} closes first with SO_LINGER 0 (closeStyle rst): an RST, no TIME_WAIT on either end`,
      clientHoldsOpen,
    };
  if (server?.unreadBody && dial.requestBodyBytes > 0) {
    return {
      holder: 'none',
      closer,
      why: 'the server closes with the request body unread: close(2) with unread data sends an RST, no TIME_WAIT on either end',
      clientHoldsOpen,
    };
  }
  if (closer === 'server' && dial.writesAfterPeerClose) {
    return {
      holder: 'none',
      closer,
      why: 'the client writes after the server closed: the server answers with an RST, which ends the connection without TIME_WAIT',
      clientHoldsOpen,
    };
  }
  if (otherStyle === 'never') {
    return {
      holder: 'none',
      closer,
      why: `the ${other} never answers the ${closer}'s FIN (closeStyle never): FIN_WAIT_2 on the ${closer}, CLOSE_WAIT on the ${other}, no TIME_WAIT`,
      clientHoldsOpen,
      unanswered: true,
    };
  }
  if (otherStyle === 'rst')
    return {
      holder: 'none',
      closer,
      why: `the ${other} answers the ${closer}'s FIN with an RST (closeStyle rst): no TIME_WAIT`,
      clientHoldsOpen,
    };
  return {
    holder: closer,
    closer,
    why: `the ${closer} closes first with a FIN (closeStyle ${closerStyle}) and the ${other} answers with its own`,
    clientHoldsOpen,
  };
}
