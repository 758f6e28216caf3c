/**
 * Preloaded into the servers under test by `npm run bench -- --profile` (`NODE_OPTIONS=--import …`, since Node
 * 20 refuses `--cpu-prof` there): profiles the whole process with the inspector and writes
 * `<BENCH_PROFILE_DIR>/CPU.<pid>.cpuprofile` when it exits, the file `--cpu-prof` would have written.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // The in-process inspector answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
