// Rewrites the field reference table in README.md from the zod schema (run by `make generate`).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderFieldReferenceTable, replaceFieldReference, specFieldRows } from '../operator/api/field-reference.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceFieldReference(before, renderFieldReferenceTable(specFieldRows()));
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md field reference up to date' : 'README.md field reference updated');
