// Bad usage of the command line (a flag missing, a value malformed): every command throws this
// one type, and main prints its message as one line and exits 2.
export class UsageError extends Error {
  override readonly name = "UsageError";
}
