import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionPool } from '../../src/outputs/connection-pool.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { waitUntil } from '../helpers/wait.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ConnectionPool', () => {
  test('a receiver that stalls longer than the resend window, then dies: what it never read is sent again', async () => {
    const received: Buffer[] = [];
    const sockets: Socket[] = [];
    let connections = 0;
    const server = createServer((socket) => {
      sockets.push(socket);
      // The first receiver hangs (reads nothing); the next one reads normally.
      if (connections++ === 0) socket.pause();
      else socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const pool = new ConnectionPool({
      name: 'test',
      target: `127.0.0.1:${port}`,
      connections: 1,
      connect: () =>
        new Promise((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.off('error', reject);
            resolve(socket);
          });
          socket.once('error', reject);
        }),
      reconnect: { initial_delay_seconds: 0.01, max_delay_seconds: 0.05 },
      recycleAfterMs: 0,
      resendWindowBytes: 256 * 1024 * 1024,
      resendWindowMs: 500,
      closeTimeoutMs: 1_000,
      logger: silentLogger(),
    });
    try {
      pool.start();
      const chunk = 64 * 1024;
      const jobs = Array.from({ length: 400 }, (_, i) => Buffer.alloc(chunk, i % 251));
      let flushed = 0;
      const sends = jobs.map((data) => pool.send(data).then(() => flushed++));
      // The socket buffers fill, then flushes stop: the receiver is stalled.
      await waitUntil(() => flushed > 0, 5_000, 'the first flushes');
      let before = -1;
      while (before !== flushed) {
        before = flushed;
        await sleep(100);
      }
      assert.ok(flushed < jobs.length, 'the stalled receiver holds writes back');
      // Stalled for longer than the resend window; then the receiver dies without reading.
      await sleep(700);
      sockets[0]!.resetAndDestroy();
      await Promise.all(sends);
      const total = jobs.length * chunk;
      const bytes = () => received.reduce((n, b) => n + b.length, 0);
      await waitUntil(() => bytes() >= total, 5_000, 'every byte').catch(() => undefined);
      assert.equal(bytes(), total, 'everything arrives once, on the second connection');
    } finally {
      await pool.stop();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
