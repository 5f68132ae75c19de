import net from 'node:net';

/**
 * A port for a server a test starts a moment later (a portal process, an instance that must keep its port across a
 * restart). Ports come from below the kernel's ephemeral range (32768–60999 here), so no `listen(0)` and no outgoing
 * connection of a parallel test can take one between our check and the child's bind; each Vitest worker has its own
 * block of the range, so two workers never pick the same port (CI once failed on EADDRINUSE with `listen(0)` ports).
 */
const FIRST_PORT = 20_000;
const BLOCK_SIZE = 750;
const BLOCKS = 16;
const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? process.pid) % BLOCKS;
const blockStart = FIRST_PORT + worker * BLOCK_SIZE;
// Files that run one after another in the same worker start at different places in its block.
let next = Math.floor(Math.random() * BLOCK_SIZE);

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < BLOCK_SIZE; tries += 1) {
    const port = blockStart + (next++ % BLOCK_SIZE);
    if (await canListen(port)) return port;
  }
  throw new Error(`No free port in ${blockStart}–${blockStart + BLOCK_SIZE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
