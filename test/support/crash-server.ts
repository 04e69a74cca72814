/**
 * Test-only server entry for the crash-safety test: the service as `keymint serve` runs it, on the
 * SQLite store in a data directory, with the crash wrappers of `crash-points.ts` around the store and
 * its database handle. Prints `listening <url>` on stdout once it accepts requests.
 *
 * Usage: node test/support/crash-server.ts <data dir> <crash point>
 */
import { loadConfig } from '../../src/config/index.ts';
import { createKeymint } from '../../src/service.ts';
import { openDatabase } from '../../src/storage/sqlite/db.ts';
import { sqliteStore } from '../../src/storage/sqlite/index.ts';
import { createLogger } from '../../src/util/log.ts';
import { CRASH_POINTS, crashingDatabase, crashingStore, isCrashPoint } from './crash-points.ts';

const [dataDir, point] = process.argv.slice(2);
// Picked up bare by a test runner given a list of files, it has nothing to run: that is not a failure.
if (dataDir === undefined && process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);
if (dataDir === undefined || !isCrashPoint(point)) {
  process.stderr.write(`usage: crash-server.ts <data dir> <${CRASH_POINTS.join(' | ')}>\n`);
  process.exit(2);
}
// Delay-based shedding off: on a loaded machine it could answer 503 before the crash point is reached.
const config = loadConfig({ dataDir, port: '0', issuer: 'http://localhost:8080', logLevel: 'silent', maxEventLoopDelayMs: '0' }, {});
const store = crashingStore(sqliteStore(crashingDatabase(openDatabase({ dir: dataDir }), point)), point);
const keymint = await createKeymint(config, { store, log: createLogger('silent') });
const port = await keymint.listen();
process.stdout.write(`listening http://127.0.0.1:${port}\n`);
