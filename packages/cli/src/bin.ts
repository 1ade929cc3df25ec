#!/usr/bin/env node
import { main } from './main.js';

// A reader that goes away (`sipnats tail | head`) ends the command quietly instead of crashing it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const io = {
  stdout: (text: string): void => void process.stdout.write(text),
  stderr: (text: string): void => void process.stderr.write(text),
};
process.exitCode = await main(process.argv.slice(2), io);
