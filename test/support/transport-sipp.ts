/**
 * SIPp runs for the transport suites that also need what SIPp saw on the wire: the run writes
 * every message sent and received (`-trace_msg`) to a file in a temp dir, returned as text, and
 * can bind an IPv6 local address (`-i ::1`, remote `[::1]:port`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipp, type SippOptions, type SippResult } from './sipp.js';

export interface TracedSippOptions extends SippOptions {
  /** Local IP SIPp binds (default 127.0.0.1); `::1` for IPv6. */
  readonly localIp?: string;
}

export interface TracedSippResult extends SippResult {
  /** Every message SIPp sent and received, as SIPp logged them. */
  readonly messages: string;
}

export interface TracedSippRun {
  readonly done: Promise<TracedSippResult>;
  stop(): Promise<void>;
}

export function startTracedSipp(o: TracedSippOptions): TracedSippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipnats-sipp-'));
  const file = join(dir, 'messages.log');
  const args = ['-trace_msg', '-message_file', file, ...(o.localIp !== undefined ? ['-i', o.localIp] : []), ...(o.args ?? [])];
  const run = startSipp({ ...o, args, cwd: dir });
  const done = run.done.then((r) => {
    let messages = '';
    try {
      messages = readFileSync(file, 'latin1');
    } catch {
      // SIPp wrote nothing (it failed before the first message)
    }
    rmSync(dir, { recursive: true, force: true });
    return { ...r, messages };
  });
  return { done, stop: () => run.stop() };
}

export function runTracedSipp(o: TracedSippOptions): Promise<TracedSippResult> {
  return startTracedSipp(o).done;
}

/** Values of every header line `name` (case-insensitive, full name only) in a text of SIP messages. */
export function headerLines(text: string, name: string): string[] {
  const re = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*?)\\r?$`, 'gim');
  return [...text.matchAll(re)].map((m) => m[1] as string);
}
