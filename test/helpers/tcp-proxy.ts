import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy on loopback in front of a real server, which a test can stop accepting through. */
export interface TcpProxy {
  readonly port: number;
  /** The local ports of the proxy's connections to the server (Postgres's `client_port`). */
  upstreamPorts(): number[];
  /** New connections are refused (the port closes); open ones keep working. */
  refuseNew(): Promise<void>;
  /** Accepts connections again, on the same port. */
  acceptAgain(): Promise<void>;
  /** Holds back what the server sends on the open connections (requests still reach it). */
  stall(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const makeServer = (): Server =>
    createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      upstreams.add(upstream);
      upstream.on('close', () => upstreams.delete(upstream));
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
      const pair = { client, upstream };
      pairs.add(pair);
      upstream.on('close', () => pairs.delete(pair));
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  let server = makeServer();
  const port = await listen(server, 0);
  const stop = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    port,
    upstreamPorts: () => [...upstreams].map((s) => s.localPort).filter((p): p is number => p !== undefined),
    refuseNew: async () => {
      const closing = stop(server);
      // close() waits for open connections; the port itself is released at once.
      await new Promise((resolve) => setImmediate(resolve));
      void closing;
    },
    acceptAgain: async () => {
      server = makeServer();
      await listen(server, port);
    },
    stall: () => {
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await stop(server);
    },
  };
}
