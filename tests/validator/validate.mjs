#!/usr/bin/env node
// validate.mjs - run the CSAF 2.0 validator of the BSI (secvisogram's
// csaf-validator-lib) over files and print one verdict per file.
//
//   node validate.mjs FILE...        (or file names, one per line, on stdin)
//
// Preset: "mandatory": the strict CSAF 2.0 JSON schema and every mandatory
// test of section 6.1 (the library's basic.js).  Output, one line per file,
// in the order given:
//
//   <path>\t<valid|invalid|unreadable>\t<failed tests, comma-separated>
//
// Exit status: 0 when every file was read and validated (whatever the
// verdicts), 1 when a file could not be read or parsed, 2 for no files.
import { readFile } from 'node:fs/promises'
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js'
import * as basic from '@secvisogram/csaf-validator-lib/basic.js'

const tests = Object.values(basic).filter((t) => typeof t === 'function')

async function files() {
  const args = process.argv.slice(2)
  if (args.length) return args
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  return input.split('\n').filter((l) => l !== '')
}

const list = await files()
if (!list.length) {
  console.error('usage: validate.mjs FILE... (or the names on stdin)')
  process.exit(2)
}
let status = 0
for (const path of list) {
  let doc
  try {
    doc = JSON.parse(await readFile(path, 'utf8'))
  } catch (e) {
    process.stdout.write(`${path}\tunreadable\t${String(e.message).replace(/\s+/g, ' ')}\n`)
    status = 1
    continue
  }
  const result = await validateStrict(tests, doc)
  const failed = result.tests.filter((t) => !t.isValid).map((t) => t.name)
  process.stdout.write(`${path}\t${result.isValid ? 'valid' : 'invalid'}\t${failed.join(',')}\n`)
}
process.exit(status)
