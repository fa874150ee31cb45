/** Adapter kinds by name. */
import { anthropicAdapter } from "./anthropic";
import { cogAdapter } from "./cog";
import { geminiAdapter } from "./gemini";
import { mockAdapter } from "./mock";
import { openaiAdapter } from "./openai";
import { replicateAdapter } from "./replicate";
import type { ProviderAdapter } from "./types";

const adapters = new Map<string, ProviderAdapter>([mockAdapter, openaiAdapter, anthropicAdapter, geminiAdapter, cogAdapter, replicateAdapter].map((a) => [a.kind, a]));

export const adapterFor = (kind: string): ProviderAdapter | undefined => adapters.get(kind);
export const adapterKinds = () => [...adapters.keys()];
