// A TCP proxy for the MongoDB tests: forwards to a server, and on request loses replies
// (the request reaches the server, the answer never reaches the client) or goes silent.
// Also a listener that accepts connections and never answers.

/** A proxy in front of one server. */
export interface Proxy {
  /** The port it listens on. */
  port: number;
  /**
   * `"forward"` passes everything; `"drop-replies"` passes requests on and closes the
   * client's connection instead of passing a reply back; `"silent"` passes nothing.
   */
  mode: "forward" | "drop-replies" | "silent";
  /** How many replies were dropped. */
  dropped: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port in front of `127.0.0.1:<targetPort>`.
 *
 * @param targetPort The server's port; `undefined` for none (a silent listener).
 */
export function startProxy(targetPort: number | undefined): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const track = (task: Promise<void>) => {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  };
  const closeConn = (conn: Deno.Conn) => {
    if (!conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn, reply: boolean, peer: Deno.Conn) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (proxy.mode === "silent") continue;
        if (reply && proxy.mode === "drop-replies") {
          proxy.dropped++;
          break;
        }
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // A closed connection ends the pump.
    }
    closeConn(from);
    closeConn(to);
    closeConn(peer);
  };
  const accept = async () => {
    for await (const client of listener) {
      conns.add(client);
      if (targetPort === undefined) {
        track(pump(client, client, false, client));
        continue;
      }
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        closeConn(client);
        continue;
      }
      conns.add(server);
      track(pump(client, server, false, server));
      track(pump(server, client, true, client));
    }
  };
  const accepting = accept().catch(() => {});
  const proxy: Proxy = {
    port: (listener.addr as Deno.NetAddr).port,
    mode: "forward",
    dropped: 0,
    async close() {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      for (const conn of [...conns]) closeConn(conn);
      await accepting;
      await Promise.all([...tasks]);
    },
  };
  return proxy;
}

/** A listener that accepts connections, reads what comes, and never answers. */
export function startSilentListener(): Proxy {
  return Object.assign(startProxy(undefined), { mode: "silent" as const });
}
