/**
 * @module util/net
 * A free loopback port, asked of the kernel (listen on port 0, read the port, close).
 */
import { createServer } from 'node:net';
import { AppError } from '../errors.js';

/** freePort returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr
          ? resolve(addr.port)
          : reject(new AppError('INTERNAL', 'the kernel gave no port for a listen on 127.0.0.1:0')),
      );
    });
  });
}
