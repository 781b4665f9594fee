import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The confirm watchdog: a separate process in a session of its own (not a child that dies with
/// the CLI, its terminal or its SSH connection) that restores the previous generation at the
/// deadline unless `firebreak confirm` ran first.
public enum Watchdog {
  /// `posix_spawn`'s POSIX_SPAWN_SETSID (glibc 2.26+; a GNU extension Swift does not import).
  static let spawnSetsid: Int16 = 0x80

  /// Starts `executable watchdog …` detached (new session, stdio on /dev/null); returns its pid.
  static func start(executable: String, store: StateStore, target: NamespaceTarget, token: String) throws -> Int32 {
    var argv = [executable, "watchdog", "--state-dir", store.directory, "--token", token]
    if let ns = target.name { argv += ["--netns", ns] }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, spawnSetsid)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd: Int32 in 0...2 {
      posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
    }
    // Nothing but /dev/null is inherited: a pipe the CLI's caller reads to its end must not stay
    // open for the watchdog's lifetime.
    closeOnExecAll()
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    // An ignored signal stays ignored across exec: the watchdog is deaf to SIGHUP from its first
    // instruction, not only once it has run far enough to say so itself.
    let previous = signal(SIGHUP, SIG_IGN)
    let status = posix_spawn(&pid, executable, &actions, &attributes, cArgs, environ)
    signal(SIGHUP, previous)
    guard status == 0 else {
      throw AtomicFile.Failure(operation: "start the confirm watchdog", path: executable, errno: status)
    }
    return pid
  }

  /// Marks every descriptor above stderr close-on-exec.
  static func closeOnExecAll() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for name in names {
      guard let fd = Int32(name), fd > 2 else { continue }
      let flags = fcntl(fd, F_GETFD)
      if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }
  }

  /// The watchdog's life: wait for the deadline (leaving early once the apply is confirmed,
  /// rolled back or superseded), then restore the previous generation under the lock.
  public static func run(store: StateStore, target: NamespaceTarget, token: String, executable: String) -> Int32 {
    signal(SIGHUP, SIG_IGN)
    store.appendToWatchdogLog("armed for \(target)")
    while true {
      guard let state = try? store.state(), let pending = state.pending, pending.token == token else {
        store.appendToWatchdogLog("confirmed or superseded; nothing to do")
        return 0
      }
      let remaining = pending.deadline.timeIntervalSinceNow
      if remaining <= 0 { break }
      // A timer, not synchronisation: the deadline is the event.
      usleep(useconds_t(min(remaining, 0.25) * 1_000_000))
    }
    do {
      // The deadline has come: wait as long as it takes for a command holding the lock.
      let deployer = Deployer(store: store, target: target, lockWait: 24 * 3600, executable: executable)
      let lock = try deployer.takeLock()
      defer { withExtendedLifetime(lock) {} }
      var state = try deployer.loadRecovering()
      guard let pending = state.pending, pending.token == token else {
        store.appendToWatchdogLog("confirmed at the deadline; nothing to do")
        return 0
      }
      try deployer.restore(
        &state, to: pending.previous,
        reason: "not confirmed by \(DeploymentState.timestamp(pending.deadline)): watchdog rollback")
      store.appendToWatchdogLog("not confirmed in time: restored generation \(pending.previous)")
      return 0
    } catch {
      store.appendToWatchdogLog("rollback FAILED: \(error)")
      return 3
    }
  }
}
