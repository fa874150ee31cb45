/**
 * The health probe, on a thread of its own so that the fuzzer's own work does not delay it:
 * GET /healthz every 100 ms, each answer's time in ms; posts them all when told to stop.
 */
declare const self: Worker;

let url = "";
let running = true;
const times: number[] = [];
const starts: number[] = [];
const failures: string[] = [];

async function loop() {
  while (running) {
    const started = performance.now();
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status !== 200) failures.push(`status ${res.status}`);
    } catch (error) {
      failures.push(String(error));
    }
    const took = performance.now() - started;
    times.push(took);
    starts.push(performance.timeOrigin + started);
    await Bun.sleep(Math.max(0, 100 - took));
  }
  self.postMessage({ times, starts, failures });
}

self.onmessage = (event: MessageEvent) => {
  if (event.data.start) {
    url = event.data.start;
    void loop();
  } else running = false;
};
