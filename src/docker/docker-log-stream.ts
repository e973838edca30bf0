/**
 * Parser for the Engine's multiplexed log stream: frames of an 8-byte header
 * (byte 0: 1 stdout / 2 stderr, bytes 4-7: big-endian payload size) and the
 * payload. Frames may split lines and chunks may split frames, so both are
 * buffered. Streams of TTY services carry no headers and are read as stdout.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from './swarm-gateway.js';

const HEADER_SIZE = 8;
const STREAMS = { 1: 'stdout', 2: 'stderr' } as const;

/** True when the bytes start with a valid multiplexing header. */
function looksMultiplexed(chunk: Buffer): boolean {
  return chunk.length >= HEADER_SIZE && (chunk[0] === 0 || chunk[0] === 1 || chunk[0] === 2) && chunk[1] === 0 && chunk[2] === 0 && chunk[3] === 0;
}

class LineSplitter {
  private readonly partial: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };
  // Frames and chunks may cut a multi-byte character in two.
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(private readonly timestamps: boolean) {}

  push(stream: LogLine['stream'], bytes: Buffer): LogLine[] {
    const parts = (this.partial[stream] + this.decoders[stream].write(bytes)).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    return parts.map((line) => this.toLine(stream, line));
  }

  flush(): LogLine[] {
    const rest = (['stdout', 'stderr'] as const).filter((stream) => this.partial[stream] !== '');
    const lines = rest.map((stream) => this.toLine(stream, this.partial[stream]));
    this.partial.stdout = '';
    this.partial.stderr = '';
    return lines;
  }

  private toLine(stream: LogLine['stream'], raw: string): LogLine {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!this.timestamps) return { stream, line };
    const space = line.indexOf(' ');
    return space > 0 ? { stream, timestamp: line.slice(0, space), line: line.slice(space + 1) } : { stream, line };
  }
}

/** Lines of a multiplexed (or raw TTY) log stream, demultiplexed into stdout and stderr. */
export async function* demuxLogLines(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: { timestamps?: boolean } = {}): AsyncGenerator<LogLine> {
  const splitter = new LineSplitter(options.timestamps ?? false);
  let pending: Buffer = Buffer.alloc(0);
  let multiplexed: boolean | undefined;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (multiplexed === undefined) {
      if (pending.length < HEADER_SIZE) continue;
      multiplexed = looksMultiplexed(pending);
    }
    if (!multiplexed) {
      yield* splitter.push('stdout', pending);
      pending = Buffer.alloc(0);
      continue;
    }
    while (pending.length >= HEADER_SIZE) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER_SIZE + size) break;
      const stream = STREAMS[pending[0] as 1 | 2] ?? 'stdout';
      yield* splitter.push(stream, pending.subarray(HEADER_SIZE, HEADER_SIZE + size));
      pending = pending.subarray(HEADER_SIZE + size);
    }
  }
  if (multiplexed === false || (multiplexed === undefined && pending.length > 0)) yield* splitter.push('stdout', pending);
  yield* splitter.flush();
}
