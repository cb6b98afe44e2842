/** Reports a bench's progress on stderr: a bar redrawn in place on a terminal, one line per step otherwise. */
export interface Progress {
  /** Starts step `label` (one of `total`). */
  step(label: string): void;
  /** A line that stays (a finished run's figures). */
  note(line: string): void;
  /** Clears the bar. */
  done(): void;
}

const BAR_WIDTH = 24;

/** A progress reporter writing to `stream`; silent when `quiet`. */
export function createProgress(
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
  quiet = false,
): Progress {
  if (quiet) return { step: () => undefined, note: () => undefined, done: () => undefined };
  let current = 0;
  let label = "";
  const tty = stream.isTTY === true;
  const draw = () => {
    // Filled up to the steps finished; the one running is named after the count.
    const filled = Math.round((BAR_WIDTH * Math.min(current - 1, total)) / total);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const line = `palm bench ${bar} ${current}/${total} ${label}`;
    // A pty may report 0 columns: treat that as unknown.
    const width = stream.columns > 0 ? stream.columns : 100;
    stream.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length + 8))}`);
  };
  return {
    step(next) {
      current++;
      label = next;
      if (tty) draw();
      else stream.write(`palm bench [${current}/${total}] ${label}\n`);
    },
    note(line) {
      if (tty) {
        stream.write(`\r\u001b[2K  ${line}\n`);
        draw();
      } else stream.write(`  ${line}\n`);
    },
    done() {
      if (tty) stream.write("\r\u001b[2K");
    },
  };
}
