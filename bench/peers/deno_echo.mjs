// Echo server on Deno's native TCP API (Deno.listen + streams), single process.
// (plain JavaScript on purpose: tsconfig type-checks bench/**/*.ts, and Deno runs .mjs as is)
// usage: deno run --allow-net deno_echo.mjs PORT [HOST]
const port = Number(Deno.args[0] ?? 9000);
const hostname = Deno.args[1] ?? "127.0.0.1";

const listener = Deno.listen({ hostname, port });
console.error(`deno_echo: ${hostname}:${port}`);
for await (const conn of listener) {
  conn.setNoDelay(true);
  conn.readable.pipeTo(conn.writable).catch(() => {});
}
