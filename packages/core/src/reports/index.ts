export { type Report, type ReportProblem, readReport, verdictFromReport, writeReport } from './report.js';
