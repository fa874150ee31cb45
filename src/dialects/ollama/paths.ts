/**
 * Ollama's paths. Its API sits beside AIMP's (`/api/runs`, `/api/media/…`, …) and OpenRouter's
 * (`/api/v1/…`) under `/api`: only these answer in Ollama's shape and take JSON whatever its
 * Content-Type (Ollama's own documentation posts with `curl -d`).
 */
const OLLAMA_PATHS = /^\/api\/(chat|generate|embed|embeddings|tags|show|version|ps|pull|push|create|copy|delete)\/?$/;

export const isOllamaPath = (path: string) => OLLAMA_PATHS.test(path);
