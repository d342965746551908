// 'Hello, World!' HTTP server on Deno.serve, single process.
// (plain JavaScript on purpose: tsconfig type-checks bench/**/*.ts, and Deno runs .mjs as is)
// usage: deno run --allow-net deno_http_hello.mjs PORT [HOST]
const port = Number(Deno.args[0] ?? 9000);
const hostname = Deno.args[1] ?? "127.0.0.1";

Deno.serve({
  hostname,
  port,
  onListen() {
    console.error(`deno_http_hello: ${hostname}:${port}`);
  },
}, () => new Response("Hello, World!", { headers: { "Content-Type": "text/plain" } }));
