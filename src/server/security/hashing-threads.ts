import { Worker } from 'node:worker_threads';
import type { ScryptOptions } from 'node:crypto';

/**
 * scrypt on threads of our own that run at the lowest CPU priority (nice 19, Linux; elsewhere normal priority).
 * A flood of sign-ups keeps a core hashing; at low priority the kernel still gives the event loop (and the
 * signed-in requests it serves) the CPU first whenever both want it, which libuv's pool threads would not.
 * The password gate bounds how many hashes run at once, so the threads here are at most that many.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
try {
  // /proc/thread-self names this thread ("<pid>/task/<tid>"); setpriority on a tid renices that thread only.
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 19);
} catch {}
parentPort.on('message', ({ password, salt, keylen, options }) => {
  try {
    const key = scryptSync(password, Buffer.from(salt), keylen, options);
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface HashingThread {
  worker: Worker;
  fail?: (error: Error) => void;
}

const idle: HashingThread[] = [];

function startThread(): HashingThread {
  const thread: HashingThread = { worker: new Worker(WORKER_SOURCE, { eval: true, name: 'password-hashing' }) };
  // Idle threads never keep the process alive.
  thread.worker.unref();
  const lost = (error: Error) => {
    const index = idle.indexOf(thread);
    if (index >= 0) idle.splice(index, 1);
    thread.fail?.(error);
  };
  thread.worker.on('error', lost);
  thread.worker.on('exit', (code) => lost(new Error(`The password hashing thread ended (${code})`)));
  return thread;
}

/** scrypt like `crypto.scrypt`, on a low-priority thread. */
export function scryptLowPriority(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  const thread = idle.pop() ?? startThread();
  return new Promise<Buffer>((resolve, reject) => {
    thread.fail = reject;
    thread.worker.ref();
    thread.worker.once('message', (answer: { key?: Uint8Array; error?: string }) => {
      thread.fail = undefined;
      thread.worker.unref();
      idle.push(thread);
      if (answer.key) resolve(Buffer.from(answer.key.buffer, answer.key.byteOffset, answer.key.byteLength));
      else reject(new Error(answer.error ?? 'scrypt failed'));
    });
    thread.worker.postMessage({ password, salt: new Uint8Array(salt), keylen, options });
  });
}
