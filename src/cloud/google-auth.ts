// The one way this project authenticates to Google: google-auth-library's application default
// credentials (the function's service account in the cloud, the user's gcloud login for the CLI),
// one client per scope, for every REST call (Logging, Cloud Storage, Pub/Sub); the client
// libraries (BigQuery, Cloud Asset) use the same library themselves. A local endpoint speaking
// Google's wire format (tests, emulators) gets a fixed token instead, which never leaves the machine.
import { GoogleAuth, OAuth2Client } from "google-auth-library";

export const SCOPES = {
  loggingRead: "https://www.googleapis.com/auth/logging.read",
  storageRead: "https://www.googleapis.com/auth/devstorage.read_only",
  storageWrite: "https://www.googleapis.com/auth/devstorage.read_write",
  pubsub: "https://www.googleapis.com/auth/pubsub",
} as const;

const clients = new Map<string, GoogleAuth>();

/** The Authorization (and quota project) headers of one request, for one scope. */
export async function authHeaders(scope: string): Promise<Record<string, string>> {
  let auth = clients.get(scope);
  if (!auth) {
    auth = new GoogleAuth({ scopes: [scope] });
    clients.set(scope, auth);
  }
  // A Headers object (google-auth-library 10) or a plain record (earlier versions).
  const given = (await auth.getRequestHeaders()) as unknown as Headers | Record<string, string>;
  const headers: Record<string, string> = {};
  if (typeof (given as Headers).forEach === "function") {
    (given as Headers).forEach((value, key) => {
      headers[key] = value;
    });
  } else Object.assign(headers, given);
  return headers;
}

/** A client whose requests carry a fixed token and never reach Google's auth servers. */
export function offlineAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({
    access_token: "local-endpoint",
    expiry_date: Date.now() + 10 * 365 * 24 * 3600 * 1000,
  });
  return client;
}
