export { main, helpText, COMMANDS } from './main.js';
export { EXIT, UsageError, type CliIo, type ExitCode } from './io.js';
export { parseToLine, describeMessage, type ParsedLine, type RejectedLine } from './commands/parse.js';
export { runTail, tailUsage } from './commands/tail.js';
export { runHep, hepUsage } from './commands/hep.js';
export { TailJsonLine, toJsonLine, TAIL_JSON_VERSION } from './tail/json-line.js';
export { encodeHep3, HEP_CHUNK } from './hep/hep-encode.js';
export { Ladder } from './tail/ladder.js';
