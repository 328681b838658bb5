import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ConnectionPool, type ConnectionPoolOptions } from '../../src/outputs/connection-pool.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { waitUntil } from '../helpers/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A pool of one TCP connection to 127.0.0.1:`port` (asked at each connection when a function). */
function poolTo(port: number | (() => number), options: Partial<ConnectionPoolOptions> = {}): ConnectionPool {
  return new ConnectionPool({
    name: 'test',
    target: '127.0.0.1',
    connections: 1,
    connect: () =>
      new Promise((resolve, reject) => {
        const socket = connect(typeof port === 'number' ? port : port(), '127.0.0.1', () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      }),
    reconnect: { initial_delay_seconds: 0.01, max_delay_seconds: 0.05 },
    recycleAfterMs: 0,
    resendWindowBytes: 1024 * 1024,
    resendWindowMs: 30_000,
    closeTimeoutMs: 1_000,
    idleConfirmMs: 0,
    logger: silentLogger(),
    ...options,
  });
}

/** A TCP server; `read` false accepts connections and never reads from them. */
async function server(
  read: boolean,
): Promise<{ port: number; received: () => number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let bytes = 0;
  let connections = 0;
  const srv = createServer((socket) => {
    connections++;
    sockets.add(socket);
    if (read) socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    else socket.pause();
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    received: () => bytes,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => srv.close(resolve));
    },
  };
}

/** Whether `promise` has settled, and how, without waiting for it. */
function track(promise: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

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
    const pool = poolTo(port, { resendWindowBytes: 256 * 1024 * 1024, resendWindowMs: 500 });
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

  test('low traffic to a reading receiver: flushed bytes are confirmed once they age out of the window (mocked clock)', async (t) => {
    const srv = await server(true);
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const pool = poolTo(srv.port, { resendWindowMs: 30_000 });
    try {
      pool.start();
      const { confirmed } = await pool.send(Buffer.from('one line\n'));
      const state = track(confirmed);
      t.mock.timers.tick(29_000);
      await tick();
      assert.equal(state.state, 'pending', 'still in the window');
      t.mock.timers.tick(1_001);
      await tick();
      assert.equal(state.state, 'resolved', 'aged out while the connection stayed healthy');
    } finally {
      t.mock.timers.reset();
      await pool.stop();
      await srv.close();
    }
  });

  test('an idle connection holding unconfirmed bytes closes gracefully: the reading receiver confirms them by closing', async () => {
    const srv = await server(true);
    const pool = poolTo(srv.port, { idleConfirmMs: 50 });
    try {
      pool.start();
      const first = track((await pool.send(Buffer.from('one\n'))).confirmed);
      await waitUntil(() => first.state === 'resolved', 5_000, 'the confirmation by the close');
      const second = track((await pool.send(Buffer.from('two\n'))).confirmed);
      await waitUntil(() => second.state === 'resolved', 5_000, 'the next connection carrying on');
      assert.equal(srv.received(), 8);
    } finally {
      await pool.stop();
      await srv.close();
    }
  });

  test('a receiver that never reads does not close when asked: nothing is confirmed, idle closes pause', async () => {
    const srv = await server(false);
    const pool = poolTo(srv.port, { idleConfirmMs: 20, closeTimeoutMs: 100, resendWindowMs: 60_000 });
    try {
      pool.start();
      const state = track((await pool.send(Buffer.from('unread\n'))).confirmed);
      await waitUntil(() => srv.connections() === 2, 5_000, 'the reconnection after the unanswered close');
      await sleep(300);
      assert.equal(state.state, 'pending', 're-sent, still owed');
      assert.equal(srv.connections(), 2, 'no further idle close within the resend window');
    } finally {
      await pool.stop();
      await srv.close();
    }
  });

  test('a receiver that never reads: stop() gives up what it never confirmed; a reading one confirms by closing', async () => {
    const stalled = await server(false);
    const pool = poolTo(stalled.port, { closeTimeoutMs: 200 });
    const reading = await server(true);
    const other = poolTo(reading.port, { closeTimeoutMs: 5_000 });
    try {
      pool.start();
      other.start();
      const sent = await Promise.all(Array.from({ length: 20 }, () => pool.send(Buffer.alloc(1_000, 0x61))));
      const states = sent.map((s) => track(s.confirmed));
      const otherState = track((await other.send(Buffer.alloc(1_000, 0x62))).confirmed);
      await tick();
      assert.ok(states.every((s) => s.state === 'pending'));
      assert.equal(otherState.state, 'pending');
      await Promise.all([pool.stop(), other.stop()]);
      await tick();
      assert.ok(
        states.every(
          (s) => s.state === 'rejected' && (s.error as { code?: string }).code === 'OUTPUT_STOPPED',
        ),
        'released: the receiver never read them',
      );
      assert.equal(otherState.state, 'resolved', 'the peer closed after reading to our end of stream');
      assert.equal(reading.received(), 1_000);
    } finally {
      await pool.stop();
      await other.stop();
      await stalled.close();
      await reading.close();
    }
  });

  test('bytes re-sent after a break keep their confirmation until they leave the window again', async () => {
    const first = await server(false);
    let port = first.port;
    const pool = poolTo(() => port);
    const second = await server(true);
    try {
      pool.start();
      const state = track((await pool.send(Buffer.from('kept\n'))).confirmed);
      port = second.port;
      await first.close();
      await waitUntil(() => second.received() === 5, 5_000, 'the re-sent bytes');
      await tick();
      assert.equal(state.state, 'pending', 'a break confirms nothing');
      await pool.stop();
      assert.equal(state.state, 'resolved', 'confirmed by the clean close');
    } finally {
      await pool.stop();
      await second.close();
    }
  });
});
