// The ConfigError a registry text is refused with; fails the test when it is accepted.
import { ConfigError, parseRegistry } from "../../src/core/registry.ts";

export function configError(text: string, file = "registry.yaml"): ConfigError {
  try {
    parseRegistry(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, but the registry was accepted");
}
