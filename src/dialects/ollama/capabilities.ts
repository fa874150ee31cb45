/**
 * What a catalog model can do, in Ollama's capability names (`/api/show`), read from the input
 * schema the gateway validates its executions against: a model whose input has no `tools` takes
 * no tools, whatever its upstream could.
 */
import type { Model } from "../../modules/catalog/service";

/** What the model's input schema lets a request carry, in Ollama's capability names. */
export function capabilitiesOf(model: Model): string[] {
  if (model.task === "embedding") return ["embedding"];
  if (model.task !== "chat") return ["completion"];
  const properties = (model.inputSchema.properties ?? {}) as Record<string, unknown>;
  const capabilities = ["completion"];
  if ("tools" in properties) capabilities.push("tools");
  if ("thinking" in properties) capabilities.push("thinking");
  // Image parts are allowed somewhere in the messages' schema.
  if (JSON.stringify(properties.messages ?? {}).includes('"const":"image"')) capabilities.push("vision");
  return capabilities;
}
