#!/usr/bin/env node
// conveyor-staging: run the staging checks, print one line per check, the
// waived list and the verdict; exit 0 when the fold is green, 1 otherwise.
import { stagingMain } from './staging/runner.js';

process.exitCode = await stagingMain(process.argv.slice(2));
