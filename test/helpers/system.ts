/**
 * Test servers that come from Debian packages (Swift's S3 API, Chromium). `.ci/run` installs
 * them and sets MODELROUTE_REQUIRE_TEST_SERVICES=1: there a missing one fails the run. On a
 * developer machine without them, `npm test` still passes and says loudly what it skipped.
 */
const required = process.env.MODELROUTE_REQUIRE_TEST_SERVICES === "1";

/** True when every command is on PATH; throws in CI when one is missing. */
export function hasSystemTools(what: string, ...commands: string[]): boolean {
  const missing = commands.filter((c) => !Bun.which(c));
  if (missing.length === 0) return true;
  const message = `${what}: ${missing.join(", ")} not installed (see .ci/run)`;
  if (required) throw new Error(`${message}; MODELROUTE_REQUIRE_TEST_SERVICES=1 forbids skipping`);
  console.warn(`SKIPPED ${message}`);
  return false;
}
