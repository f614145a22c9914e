import { expect, inject, it } from 'vitest'
import { leftBehind, tempEntries } from './temp-entries.js'

// The `temp` project's only file: it runs after every other file of the run
// (`sequence.groupOrder`), under CI=true (vitest.config.ts), and compares the temporary places'
// entries with those of the run's start. A test file that leaves a directory or file there fails
// the run, named by its path (the prefixes say which file made it). Another process writing to
// the temporary directory during the run shows here too: CI runs the suite alone.
it('the test files left nothing in the temporary directory, /dev/shm or /var/lib/cutover-*', () => {
  expect(leftBehind(inject('tempEntriesBefore'), tempEntries(), inject('vitestTempDirs'))).toEqual(
    [],
  )
})
