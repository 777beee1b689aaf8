// Validate CSAF 2.0 documents with BSI's @secvisogram/csaf-validator-lib: the strict JSON-schema
// test (additionalProperties false everywhere; CVSS schemas bundled, nothing fetched) plus every
// CSAF 2.0 mandatory test (6.1.x). Informative tests are not run (some fetch URLs).
//
// Usage: node validate-csaf.mjs LIB_DIR FILE.json...   (LIB_DIR: .../@secvisogram/csaf-validator-lib)
// Prints one JSON array, one object per file: {file, isValid, failed: [{name, errors}]}.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [lib, ...files] = process.argv.slice(2)
const load = (name) => import(pathToFileURL(join(lib, name)).href)
// validate.js, not validateStrict.js: the latter imports every test module only to check that the
// functions passed are the library's own; only the library's exports are passed here.
const { default: validate } = await load('validate.js')
const mandatory = await load('mandatoryTests.js')
const { csaf_2_0_strict } = await load('schemaTests.js')
const tests = [csaf_2_0_strict, ...Object.values(mandatory)]

const results = []
for (const file of files) {
  const doc = JSON.parse(await readFile(file, 'utf8'))
  const res = await validate(tests, doc)
  const failed = res.tests
    .filter((t) => !t.isValid || t.errors.length)
    .map((t) => ({ name: t.name, errors: t.errors.map((e) => `${e.instancePath}: ${e.message}`) }))
  results.push({ file, isValid: res.isValid, testsRun: res.tests.length, failed })
}
console.log(JSON.stringify(results))
