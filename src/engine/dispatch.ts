// One tick's event batch (reactor.wit: 4 u32 words per event, w0 = kind |
// conn << 8) decoded into calls on the engine, one per event, in order. The
// decoding lives here so that the event format is read in one place; what each
// event does is the engine's (src/engine.ts) and the listener's (listener.ts).
import { EV_CLOSED, EV_DATA, EV_EOF, EV_ERROR, EV_HANDOFF, EV_OPEN, EV_SENT } from '../../bridge/consts.ts';

export interface EventSink {
  data(slot: number, bid: number, offset: number, len: number): void;
  sent(slot: number, ranges: number, bytes: number): void;
  open(slot: number, fd: number): void;
  eof(slot: number): void;
  closed(slot: number, errno: number): void;
  /** The listener's accept failed: `rearmed` false when the core gave up on it. */
  listenerError(errno: number, rearmed: boolean): void;
  /** An accepted fd this reactor does not own (listen-ex handoff mode). */
  handoff(fd: number): void;
  /** A kind this engine does not know (a newer core): skipped. */
  unknown(kind: number): void;
}

export function dispatchEvents(ev: Uint32Array, sink: EventSink): void {
  const n = ev.length;
  for (let i = 0; i < n; i += 4) {
    const w0 = ev[i]!;
    const slot = w0 >>> 8;
    switch (w0 & 0xff) {
      case EV_DATA:
        sink.data(slot, ev[i + 1]!, ev[i + 2]!, ev[i + 3]!);
        break;
      case EV_SENT:
        sink.sent(slot, ev[i + 1]!, ev[i + 2]!);
        break;
      case EV_OPEN:
        sink.open(slot, ev[i + 1]! | 0);
        break;
      case EV_EOF:
        sink.eof(slot);
        break;
      case EV_CLOSED:
        sink.closed(slot, ev[i + 1]!);
        break;
      case EV_ERROR:
        sink.listenerError(ev[i + 1]!, ev[i + 2] !== 0);
        break;
      case EV_HANDOFF:
        sink.handoff(ev[i + 1]! | 0);
        break;
      default:
        sink.unknown(w0 & 0xff);
    }
  }
}
