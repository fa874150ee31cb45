import { VERSION } from "../version";
import { commonOptions, type Command } from "./shared";

export const version: Command = {
  summary: "Print the version.",
  usage: `modelroute version

Examples:
  modelroute version`,
  options: commonOptions,
  async run() {
    process.stdout.write(`modelroute ${VERSION} (bun ${Bun.version})\n`);
    return 0;
  },
};
