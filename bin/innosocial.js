#!/usr/bin/env node
// The installed command: the compiled CLI (npm start / npm test build it into dist/).
require('../dist/client/cli/main.js').main();
