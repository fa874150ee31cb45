/**
 * A caller's preferences among a model's routes (OpenRouter's `provider` object): which
 * providers it allows (`only`, `ignore`), which it wants first (`order`), and whether the
 * others may take over (`allow_fallbacks`). Applied when the execution is created, so a request
 * nothing qualifies for is refused before anything is held or called, and again at run time.
 */
import type { RouteInfo } from "./types";

export type RoutePreferences = { order?: string[]; only?: string[]; ignore?: string[]; allowFallbacks?: boolean };

export function preferredRoutes<R extends Pick<RouteInfo, "provider">>(routes: R[], prefs: RoutePreferences | null | undefined): R[] {
  if (!prefs) return routes;
  let allowed = routes.filter((r) => (!prefs.only?.length || prefs.only.includes(r.provider.id)) && !prefs.ignore?.includes(r.provider.id));
  if (prefs.order?.length) {
    const rank = (r: R) => {
      const at = prefs.order!.indexOf(r.provider.id);
      return at < 0 ? prefs.order!.length : at;
    };
    const ordered = allowed.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
    allowed = prefs.allowFallbacks === false ? ordered.filter((r) => prefs.order!.includes(r.provider.id)) : ordered;
  } else if (prefs.allowFallbacks === false) allowed = allowed.slice(0, 1);
  return allowed;
}
