/**
 * Live progress: on a terminal, one picture redrawn in place (log-update) with a spinner and, where
 * a fraction is known, a bar (cli-progress's bar format); elsewhere (a pipe, a file, CI), plain
 * lines, each printed once, that a log keeps readable.
 */
import cliProgress from "cli-progress";
import { createLogUpdate } from "log-update";

/** Shows the state of long work as it changes. */
export interface ProgressView {
  /**
   * Shows the current state: on a terminal `picture(spinner)` replaces what was shown; elsewhere
   * each of `lines` not printed before is printed.
   */
  show(picture: (spinner: string) => string, lines: readonly string[]): void;
  /** Stops redrawing and leaves the last picture on screen. */
  close(): void;
}

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const spinnerIntervalMs = 100;

/**
 * The terminal as log-update sees it: a pseudo-terminal not sized yet (0×0, as some containers and
 * `script` start) counts as 80×24, where log-update would draw nothing at all.
 */
function sizedTerminal(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  const tty = stream as NodeJS.WritableStream & { columns?: number; rows?: number };
  return {
    isTTY: true,
    get columns() {
      return tty.columns || 80;
    },
    get rows() {
      return tty.rows || 24;
    },
    write: (chunk: string) => stream.write(chunk),
  } as unknown as NodeJS.WritableStream;
}

/** A picture redrawn in place on a terminal, the spinner turning between updates. */
export function liveView(stream: NodeJS.WritableStream): ProgressView {
  const update = createLogUpdate(sizedTerminal(stream));
  let picture: ((spinner: string) => string) | undefined;
  let frame = 0;
  const draw = () => {
    if (picture) update(picture(spinnerFrames[frame % spinnerFrames.length] ?? ""));
  };
  const timer = setInterval(() => {
    frame += 1;
    draw();
  }, spinnerIntervalMs);
  timer.unref();
  return {
    show(next) {
      picture = next;
      draw();
    },
    close() {
      clearInterval(timer);
      draw();
      update.done();
    },
  };
}

/** Lines each printed once, in order, for a pipe or a file. */
export function plainView(stream: NodeJS.WritableStream): ProgressView {
  const printed = new Set<string>();
  return {
    show(_picture, lines) {
      for (const line of lines) {
        if (printed.has(line)) continue;
        printed.add(line);
        stream.write(`${line}\n`);
      }
    },
    close() {},
  };
}

/** A view that shows nothing (`--quiet`-like uses, and `--output json` piped to a program). */
export const silentView: ProgressView = { show() {}, close() {} };

const barSize = 24;

/** A progress bar for `done` of `total`, e.g. `████████░░░░░░░░░░░░░░░░`. */
export function progressBar(done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const preset = cliProgress.Presets.shades_classic;
  return cliProgress.Format.BarFormat(fraction, {
    barsize: barSize,
    barCompleteString: (preset.barCompleteChar ?? "█").repeat(barSize),
    barIncompleteString: (preset.barIncompleteChar ?? "░").repeat(barSize),
    barGlue: "",
  });
}
