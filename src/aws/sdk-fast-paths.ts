import type { AuthScheme, RequestSigner } from '@smithy/types';
import toFastProperties from 'to-fast-properties';

/**
 * Two tricks on AWS SDK v3 client internals (`client.config`), for the SQS request rates. Each
 * checks what it leans on and does nothing when the SDK has changed (the plain SDK behaviour);
 * test/aws/sdk-fast-paths.test.ts fails when the SDK changes under them.
 */

type SignerConfig = { signer: (authScheme?: AuthScheme) => Promise<RequestSigner> };

function configOf(client: object): Record<string, unknown> | undefined {
  const config = (client as { config?: unknown }).config;
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined;
}

/**
 * The SDK builds a client's config by adding some fifty properties to one object, which leaves it
 * in V8's slow dictionary mode; its middleware copies it ({...config}) three times a request, at
 * about 20 µs a copy in that mode and 1.5 µs in fast mode (measured on Node 20, SQS client).
 */
export function fastClientConfig(client: object): void {
  const config = configOf(client);
  if (config) toFastProperties(config);
}

/**
 * The SDK makes a new SigV4 signer for every request, copying the whole client config into it;
 * the signer's cache of derived signing keys dies with it, so each request derives its key again
 * (four HMACs). Each client here serves one region, and every sign() call names its signing
 * region and service, so one signer per client signs exactly the same. A failure is not kept.
 */
export function reuseSigner(client: object): void {
  const config = configOf(client) as Partial<SignerConfig> | undefined;
  if (typeof config?.signer !== 'function') return;
  const make = config.signer;
  let signer: Promise<RequestSigner> | undefined;
  config.signer = (authScheme) => {
    if (!signer) {
      signer = make(authScheme);
      signer.catch(() => (signer = undefined));
    }
    return signer;
  };
}
