/**
 * Pull and build answer 200 and then report progress, and failures, as JSON
 * events in the body ({"error": ..., "errorDetail": {...}}). This reads such a
 * stream to its end with docker-modem's followProgress and turns an error
 * event into a thrown error, keeping the output lines for the caller.
 */
import type Docker from 'dockerode';

export interface ProgressEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/** Output lines kept in memory; older ones are dropped (a build may print megabytes). */
export const MAX_PROGRESS_LINES = 5_000;

export interface ProgressOutcome {
  /** Human-readable output lines (build steps, pull status). */
  lines: string[];
  /** The error event's message, when the operation failed inside the stream. */
  error?: string;
  /** The image id the build reported (aux.ID), when it did. */
  imageId?: string;
}

function linesOf(event: ProgressEvent): string[] {
  if (event.stream !== undefined) return event.stream.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
  if (event.status !== undefined) return [[event.id, event.status].filter(Boolean).join(': ')];
  return [];
}

/** Reads a pull or build stream to its end; never throws for in-stream errors (see `error`). */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (line: string) => void): Promise<ProgressOutcome> {
  const outcome: ProgressOutcome = { lines: [] };
  const keep = (line: string) => {
    outcome.lines.push(line);
    if (outcome.lines.length > MAX_PROGRESS_LINES) outcome.lines.splice(0, outcome.lines.length - MAX_PROGRESS_LINES);
    onLine?.(line);
  };
  return new Promise((resolve, reject) => {
    const onProgress = (event: ProgressEvent) => {
      if (event.error !== undefined || event.errorDetail !== undefined) {
        outcome.error = event.errorDetail?.message ?? event.error ?? 'unknown error';
        keep(outcome.error);
        return;
      }
      if (event.aux?.ID) outcome.imageId = event.aux.ID;
      for (const line of linesOf(event)) keep(line);
    };
    docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(outcome)), onProgress);
  });
}
