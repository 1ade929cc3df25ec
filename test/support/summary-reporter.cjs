'use strict';
// mocha's spec reporter, plus one line of totals appended to the file named by
// SIPNATS_TEST_SUMMARY (when set) so that scripts/test.sh can print a closing
// "N passed, N failed" line for the whole suite (TypeScript and C together).
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.SIPNATS_TEST_SUMMARY;
      if (!file) return;
      const s = runner.stats || {};
      fs.appendFileSync(file, `${s.passes || 0} ${s.failures || 0} ${s.pending || 0} mocha:${options.reporterOption?.label || 'suite'}\n`);
    });
  }
}
module.exports = SummaryReporter;
