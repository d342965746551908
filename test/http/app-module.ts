// A serve({ reactors, module }) app for test/http/cluster.test.ts: a function
// of moduleOptions, called once per reactor thread.
import type { ServeModule } from '../../src/http/index.ts';

export default (options: { tag: string }, reactor: { index: number }): ServeModule => ({
  handler(req, res) {
    if (req.pathIs('/echo')) return req.text().then((t) => { res.end(`${options.tag}:${t}`); });
    res.end(`${options.tag} reactor ${reactor.index} ${req.method} ${req.url}`);
  },
});
