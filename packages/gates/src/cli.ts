#!/usr/bin/env node
process.stderr.write('conveyor-scan: not built yet\n');
process.exit(2);
