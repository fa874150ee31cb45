/** Adapter kinds by name. */
import { mockAdapter } from "./mock";
import type { ProviderAdapter } from "./types";

const adapters = new Map<string, ProviderAdapter>([[mockAdapter.kind, mockAdapter]]);

export const adapterFor = (kind: string): ProviderAdapter | undefined => adapters.get(kind);
export const adapterKinds = () => [...adapters.keys()];
