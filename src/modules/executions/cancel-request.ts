/**
 * The reason a running provider call is aborted when its execution is cancelled by request: the
 * run job then ends the execution CANCELLED itself and charges what the provider had already
 * produced (a streamed answer's text so far), instead of the cancel charging nothing.
 */
export class CancelRequested extends Error {
  constructor() {
    super("The execution was cancelled by request.");
  }
}
