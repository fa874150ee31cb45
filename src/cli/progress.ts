/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
const WIDTH = 30;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = stream.isTTY === true;
  let last = "";
  return {
    update(done: number, total: number) {
      if (!enabled) return;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const line = `${label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${mib(done)} / ${mib(total)}`;
      if (line === last) return;
      last = line;
      stream.write(`\r${line}`);
    },
    done() {
      if (enabled && last) stream.write("\n");
    },
  };
}
