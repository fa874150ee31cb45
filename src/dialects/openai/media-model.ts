/**
 * The OpenAI-compatible audio, image edit and moderation bodies as the API docs show them. They
 * document, they do not validate: the routes check requests themselves, so errors come in
 * OpenAI's shape with its `param`. Examples are what the mock models answer.
 */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;
const EXAMPLE_ID = "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";
const binary = (description: string) => Type.String({ format: "binary", description });
const MODERATION_EXAMPLE = {"results":[{"flagged":true,"categories":{"harassment":false,"harassment/threatening":false,"hate":false,"hate/threatening":false,"illicit":false,"illicit/violent":false,"self-harm":false,"self-harm/intent":false,"self-harm/instructions":false,"sexual":false,"sexual/minors":false,"violence":true,"violence/graphic":false},"category_scores":{"harassment":0.000114,"harassment/threatening":0.000111,"hate":0.000719,"hate/threatening":0.000658,"illicit":0.000323,"illicit/violent":0.000866,"self-harm":0.000584,"self-harm/intent":0.000519,"self-harm/instructions":0.000491,"sexual":0.000696,"sexual/minors":0.000084,"violence":0.7,"violence/graphic":0.000022},"category_applied_input_types":{"harassment":["text"],"harassment/threatening":["text"],"hate":["text"],"hate/threatening":["text"],"illicit":["text"],"illicit/violent":["text"],"self-harm":["text"],"self-harm/intent":["text"],"self-harm/instructions":["text"],"sexual":["text"],"sexual/minors":["text"],"violence":["text"],"violence/graphic":["text"]}}]};

export namespace OpenAIMediaModel {
  export const speechRequest = Type.Object(
    {
      model: Type.String({ description: "A text-to-speech model's slug (GET /v1/models)." }),
      input: Type.String({ description: "The text to speak, up to 4096 characters." }),
      voice: Type.String({ description: "The voice: passed to the upstream; on the mock, its pitch." }),
      response_format: Type.Optional(Type.String({ description: "wav, pcm, mp3, opus, aac or flac, as far as the model produces it (mock-tts: wav or pcm; anything else is a 400 naming response_format). Left out: the model's default (wav)." })),
      speed: Type.Optional(Type.Number({ description: "0.25 to 4 (default 1)." })),
      instructions: Type.Optional(Type.String({ description: "How to speak, for upstreams that take it." })),
    },
    { ...open, description: "OpenAI's speech request.", examples: [{ model: "mock-tts", input: "Hello from the gateway.", voice: "alloy", response_format: "wav" }] },
  );

  const transcriptionFields = {
    file: binary("The recording (flac, mp3, mp4, m4a, ogg, wav, webm), up to 25 MB. Stored as a file of the organization, the execution's input."),
    model: Type.String({ description: "A speech-to-text model's slug." }),
    prompt: Type.Optional(Type.String({ description: "Text to guide the model (passed upstream)." })),
    response_format: Type.Optional(Type.String({ description: "json (default), text, srt, verbose_json or vtt." })),
    temperature: Type.Optional(Type.Number({ description: "0 to 1, passed upstream." })),
  };

  export const transcriptionForm = Type.Object(
    {
      ...transcriptionFields,
      language: Type.Optional(Type.String({ description: "The spoken language (ISO-639-1), passed upstream." })),
      "timestamp_granularities[]": Type.Optional(Type.Array(Type.String(), { description: "segment and/or word: the timings verbose_json carries." })),
    },
    { ...open, description: "OpenAI's transcription request, as multipart/form-data." },
  );

  export const translationForm = Type.Object(transcriptionFields, { ...open, description: "OpenAI's translation request, as multipart/form-data: the text comes back in English." });

  const segment = Type.Object({ id: Type.Integer(), start: Type.Number(), end: Type.Number(), text: Type.String() }, open);
  const word = Type.Object({ word: Type.String(), start: Type.Number(), end: Type.Number() });
  const durationUsage = Type.Object({ type: Type.Literal("duration"), seconds: Type.Number({ description: "Seconds of audio: what the execution is priced by." }) });

  export const transcription = Type.Object(
    {
      text: Type.String(),
      task: Type.Optional(Type.String({ description: "verbose_json: transcribe or translate." })),
      language: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "verbose_json." })),
      duration: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: "verbose_json: seconds of audio." })),
      segments: Type.Optional(Type.Array(segment, { description: "verbose_json: id, start, end and text of each segment." })),
      words: Type.Optional(Type.Array(word, { description: 'verbose_json with timestamp_granularities[]=word.' })),
      usage: Type.Optional(durationUsage),
    },
    {
      description: "The transcript: json or verbose_json. text, srt and vtt come as text/plain.",
      examples: [{ text: "Hello from the gateway.", usage: { type: "duration", seconds: 1.38 } }],
    },
  );

  export const imageEditForm = Type.Object(
    {
      image: binary("The image to edit (image[] for several; the mock edits the first, PNG only)."),
      mask: Type.Optional(binary("A PNG the size of the image: its fully transparent pixels are where the edit goes.")),
      prompt: Type.String({ description: "The edit to make." }),
      model: Type.String({ description: "An image-edit model's slug." }),
      n: Type.Optional(Type.Integer({ description: "How many images." })),
      size: Type.Optional(Type.String({ description: "WIDTHxHEIGHT of the result (default: the image's)." })),
      response_format: Type.Optional(Type.String({ description: "b64_json (default) or url." })),
    },
    { ...open, description: "OpenAI's image edit request, as multipart/form-data." },
  );

  export const imageVariationForm = Type.Object(
    {
      image: binary("The image to vary (PNG on the mock)."),
      model: Type.String({ description: "An image-variation model's slug." }),
      n: Type.Optional(Type.Integer({ description: "How many variations." })),
      size: Type.Optional(Type.String({ description: "WIDTHxHEIGHT of the result (default: the image's)." })),
      response_format: Type.Optional(Type.String({ description: "b64_json (default) or url." })),
    },
    { ...open, description: "OpenAI's image variation request, as multipart/form-data." },
  );

  export const moderationRequest = Type.Object(
    {
      input: Type.Union([Type.String(), Type.Array(Type.String()), Type.Array(Type.Object({ type: Type.String() }, open))], {
        description: 'A string, a list of strings (one result each), or a list of {"type":"text","text"} and {"type":"image_url","image_url":{"url"}} parts (one result).',
      }),
      model: Type.Optional(Type.String({ description: "A moderation model's slug (default: the catalog's first moderation model)." })),
    },
    { ...open, description: "OpenAI's moderation request.", examples: [{ model: "mock-moderation", input: "I will kill you" }] },
  );

  const scores = Type.Record(Type.String(), Type.Number());
  export const moderation = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      model: Type.String(),
      results: Type.Array(
        Type.Object({
          flagged: Type.Boolean(),
          categories: Type.Record(Type.String(), Type.Boolean()),
          category_scores: scores,
          category_applied_input_types: Type.Record(Type.String(), Type.Array(Type.String())),
        }),
      ),
    },
    { description: "One result per input string (one for a list of parts).", examples: [{ id: EXAMPLE_ID, model: "mock-moderation", ...MODERATION_EXAMPLE }] },
  );
}
