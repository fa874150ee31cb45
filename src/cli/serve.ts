import { idleCollector } from "../idle-gc";
import { SHUTDOWN_DRAIN_MS, startServer } from "../server";
import { VERSION } from "../version";
import { commonOptions, configFrom, settingOptions, SETTINGS_HELP, type Command } from "./shared";

export const serve: Command = {
  summary: "Run the HTTP server (the default command).",
  usage: `modelroute serve [flags]

Starts the gateway. On an empty data directory it creates the schema, the default organization,
a management API key and the operator token, prints the key once and writes both to
<data-dir>/bootstrap.json (mode 0600). SIGTERM or SIGINT drains in-flight requests and exits 0.

Examples:
  modelroute
  modelroute serve --port 9000 --data-dir /var/lib/modelroute
  MODELROUTE_LOG_LEVEL=warn modelroute serve --config /etc/modelroute.yaml

Flags (flag > environment > config file > default):
  --config FILE                 MODELROUTE_CONFIG                    JSON or YAML file of settings.
${SETTINGS_HELP}`,
  options: { ...commonOptions, ...settingOptions },
  async run(values) {
    const config = configFrom(values);
    const running = await startServer(config);
    const { ctx } = running;
    // A bug that throws outside any request (a timer, a callback after an answer was sent) is
    // logged and the server goes on: every state change is already in the database.
    process.on("uncaughtException", (error) => ctx.log.error("uncaught exception; the server goes on", { error }));
    process.on("unhandledRejection", (error) => ctx.log.error("unhandled rejection; the server goes on", { error }));
    if (running.bootstrap) {
      process.stderr.write(
        [
          "",
          "ModelRoute first run: created the default organization.",
          `  API key:        ${running.bootstrap.api_key}`,
          `  Operator token: ${running.bootstrap.admin_token}`,
          `  Both are saved in ${config.dataDir}/bootstrap.json (mode 0600). Copy them somewhere safe and delete the file.`,
          "",
        ].join("\n") + "\n",
      );
    }
    // The process is this server's alone: it may collect its garbage when the server goes quiet.
    const collector = idleCollector(() => ctx.metrics.requestsSoFar);
    ctx.log.info("listening", { url: running.url, docs: `${running.url}/docs`, version: VERSION, data_dir: config.dataDir, startup_ms: Math.round(performance.now()) });
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        ctx.log.info("shutting down", { signal, grace_ms: config.shutdownGraceMs });
        collector.stop();
        void running.stop({ drainMs: SHUTDOWN_DRAIN_MS }).then(resolve);
      };
      process.once("SIGTERM", () => onSignal("SIGTERM"));
      process.once("SIGINT", () => onSignal("SIGINT"));
    });
    return 0;
  },
};
