/** Request ids and start times, kept beside the Request object instead of on the context type. */
import { newId } from "../ids";

const started = new WeakMap<Request, { id: string; at: number }>();

export function stampRequest(request: Request): string {
  const id = newId("req");
  started.set(request, { id, at: performance.now() });
  return id;
}

export const requestIdOf = (request: Request) => started.get(request)?.id ?? "req_unknown";
export const elapsedMsOf = (request: Request) => {
  const entry = started.get(request);
  return entry ? performance.now() - entry.at : 0;
};
