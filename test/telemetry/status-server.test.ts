import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { Metrics } from '../../src/telemetry/metrics.js';
import { startStatusServer } from '../../src/telemetry/status-server.js';

describe('status server', () => {
  test('close() does not wait for a client that connected and never sent a request', async () => {
    const server = await startStatusServer(0, new Metrics(), () => ({ events: 0, bytes: 0, batches: 0 }));
    const client = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const closedByServer = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      server.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open after 2 s'), 2_000))),
    ]);
    clearTimeout(timer);
    client.destroy();
    assert.equal(outcome, 'closed', 'shutdown must not hang on an idle status connection');
    await closedByServer;
  });
});
