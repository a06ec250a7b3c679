/**
 * Preloaded (`node --import`) into every child process of the runner. The
 * runner hands each child a stdin pipe that only closes when the runner
 * exits; exiting then means no server or fake upstream outlives a runner that
 * died abruptly (SIGKILL, crash), when it had no chance to stop them.
 */
process.stdin.once('end', () => process.exit(0))
process.stdin.resume()
// Watching the pipe must not keep an otherwise finished process alive.
process.stdin.unref()

export {}
