import Deployment
import Foundation
import Testing

/// `apply`, `confirm`, `rollback`, `status` and the watchdog, run as the real `firebreak` binary
/// against scratch namespaces (never the root one), with `nft` as the independent oracle.
@Suite(.serialized) struct DeploymentKernelTests {
  /// The `firebreak` executable SwiftPM built beside the test bundle.
  static let binary: String = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return dir.appendingPathComponent("firebreak").path
  }()

  static var ready: Bool {
    guard Kernel.available else { return false }
    guard FileManager.default.isExecutableFile(atPath: binary) else {
      FileHandle.standardError.write(Data("SKIPPING deployment tests: \(binary) was not built\n".utf8))
      return false
    }
    return true
  }

  /// A scratch namespace with its own state directory, both removed afterwards.
  final class Site {
    let ns: ScratchNamespace
    let stateDir: String
    init() throws {
      ns = try ScratchNamespace("dep")
      stateDir = NSTemporaryDirectory() + "fbt-state-\(ns.name)"
    }
    func remove() {
      ns.remove()
      try? FileManager.default.removeItem(atPath: stateDir)
    }
    var common: [String] { ["--netns", ns.name, "--state-dir", stateDir] }

    @discardableResult
    func firebreak(_ command: String, _ args: [String] = [], environment: [String: String] = [:]) throws
      -> CommandResult
    {
      try run([DeploymentKernelTests.binary, command] + common + args, environment: environment)
    }

    func listing() throws -> String { try ns.check(["/usr/sbin/nft", "list", "ruleset"]) }
  }

  @Test func rollbackRestoresEveryGenerationExactlyAndLeavesForeignTables() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    try site.ns.check(
      ["/usr/sbin/nft", "-f", "-"], input: "table inet foreign {\n  chain c {\n    tcp dport 9 drop\n  }\n}\n")
    let before = try site.listing()
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    let first = try site.listing()
    #expect(try site.firebreak("apply", ["Rules/lab-blocked.policy"]).status == 0)
    let second = try site.listing()
    #expect(first != second && first != before)
    #expect(first.contains("table inet foreign"))

    #expect(try site.firebreak("rollback").status == 0)
    #expect(try site.listing() == first)
    #expect(try site.firebreak("rollback", ["--to", "0"]).status == 0)
    #expect(try site.listing() == before)
    #expect(try site.firebreak("rollback", ["--to", "2"]).status == 0)
    #expect(try site.listing() == second)
    let history = try site.firebreak("history").stdout
    #expect(history.contains("* 2 "), "\(history)")
    #expect(try site.firebreak("rollback", ["--to", "9"]).status == 2)
  }

  /// The iptables backend through the CLI: the kernel holds what iptables-legacy-restore would
  /// load, a table the policy does not use survives, and rollback (also across a switch of
  /// backend) gives back the exact listings.
  @Test func iptablesBackendAppliesLikeRestoreAndRollsBackExactly() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    let oracle = try ScratchNamespace("ipt")
    defer { oracle.remove() }
    try site.ns.check(["/usr/sbin/iptables-legacy", "-t", "raw", "-A", "PREROUTING", "-p", "udp", "-j", "NOTRACK"])
    func save(_ ns: ScratchNamespace) throws -> [String: [String]] {
      Listing.iptables(try ns.check(["/usr/sbin/iptables-legacy-save"]))
    }
    let before = try save(site.ns)
    #expect(try site.firebreak("apply", ["--backend", "iptables", "Rules/server.policy"]).status == 0)
    let compiled = try run([Self.binary, "compile", "--backend", "iptables", "--family", "ip", "Rules/server.policy"])
    try oracle.check(["/usr/sbin/iptables-legacy-restore"], input: compiled.stdout)
    let applied = try save(site.ns)
    #expect(applied["filter"] == (try save(oracle))["filter"])
    #expect(applied["raw"] == before["raw"], "the raw table is not the policy's")
    // Switch to nft: the iptables tables Firebreak owned are emptied, the nft table appears.
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    #expect(try site.listing().contains("table ip filter"))
    #expect(try site.firebreak("rollback").status == 0)
    #expect(try save(site.ns) == applied)
    #expect(!(try site.listing().contains("table ip filter")))
    #expect(try site.firebreak("rollback", ["--to", "0"]).status == 0)
    // x_tables cannot unload a table: the filter table stays loaded, empty, with ACCEPT policies.
    let restored = try save(site.ns)
    #expect(restored["raw"] == before["raw"])
    #expect(restored["filter"].map { $0.allSatisfy { $0.hasPrefix(":") || $0 == "COMMIT" } } ?? true, "\(restored)")
  }

  /// A policy that drops new SSH connections from the client in $SSH_CONNECTION: plan says so and
  /// exits 4, apply refuses (exit 4, nothing changed), apply --force goes ahead.
  @Test func lockoutGuardRefusesUnlessForced() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    let policy = NSTemporaryDirectory() + "fbt-lockout-\(UInt32.random(in: 0...UInt32.max)).policy"
    try """
    table inet filter {
      chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        tcp dport 80 accept
      }
    }

    """.write(toFile: policy, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: policy) }
    let ssh = ["SSH_CONNECTION": "192.0.2.10 50000 10.0.0.1 22"]
    let plan = try site.firebreak("plan", [policy], environment: ssh)
    #expect(plan.status == 4)
    #expect(plan.stdout.contains("LOCKOUT"), "\(plan.stdout)")
    let before = try site.listing()
    let refused = try site.firebreak("apply", [policy], environment: ssh)
    #expect(refused.status == 4)
    #expect(refused.stderr.contains("management connection is cut"), "\(refused.stderr)")
    #expect(try site.listing() == before)
    #expect(try site.firebreak("apply", ["--force", policy], environment: ssh).status == 0)
    #expect(try site.listing().contains("table inet filter"))
    // A policy that lets SSH in is no lockout.
    #expect(try site.firebreak("plan", ["Rules/server.policy"], environment: ssh).status == 0)
  }

  @Test func driftInOwnedTablesIsShownAndForeignChangesAreNot() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    #expect(try site.firebreak("status").status == 0)
    try site.ns.check(["/usr/sbin/nft", "add", "table", "inet", "someone-else"])
    #expect(try site.firebreak("status").status == 0)
    try site.ns.check(["/usr/sbin/nft", "add", "rule", "ip", "filter", "FORWARD", "tcp", "dport", "22", "accept"])
    let status = try site.firebreak("status")
    #expect(status.status == 1)
    #expect(status.stdout.contains("drift: the live tables differ from generation 1"), "\(status.stdout)")
    #expect(status.stdout.contains("+ "), "\(status.stdout)")
  }

  @Test func invalidPolicyChangesNothing() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    let before = try site.listing()
    let bad = NSTemporaryDirectory() + "fbt-bad-\(UInt32.random(in: 0...UInt32.max)).policy"
    try "table ip filter {\n  chain FORWARD {\n    ip saddr 10.0.0.300 accept\n  }\n}\n".write(
      toFile: bad, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: bad) }
    let r = try site.firebreak("apply", [bad])
    #expect(r.status == 2)
    #expect(r.stderr.contains("\(bad):3:"), "\(r.stderr)")
    #expect(try site.listing() == before)
    #expect(try site.firebreak("history").stdout.contains("* 1 "))
  }

  @Test func heldLockRefusesAndWaitingApplyRunsAfterIt() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    let store = StateStore(directory: site.stateDir)
    var (lock, _) = try StateLock.acquire(store, wait: 0)
    #expect(lock != nil)
    let refused = try site.firebreak("apply", ["Rules/lab-blocked.policy"])
    #expect(refused.status == 4)
    #expect(refused.stderr.contains("holds the lock"), "\(refused.stderr)")
    // A waiting apply cannot go ahead while the lock is held: still generation 1 when released.
    let waiting = try Spawned([Self.binary, "apply"] + site.common + ["--wait", "30", "Rules/lab-blocked.policy"])
    #expect(try store.state()?.current == 1)
    lock = nil
    #expect(waiting.wait() == 0)
    #expect(try store.state()?.current == 2)
  }

  @Test func unconfirmedApplyIsRolledBackAfterTheCLIIsKilled() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    let before = try site.listing()
    let cli = try Spawned([Self.binary, "apply"] + site.common + ["--confirm", "3", "Rules/lab-blocked.policy"])
    try cli.waitForOutput("applied generation 2")
    let pending = try #require(try StateStore(directory: site.stateDir).state()?.pending)
    // The watchdog leads a session of its own, so a terminal's or an SSH session's hangup never
    // reaches it; and it ignores SIGHUP anyway.
    #expect(getsid(pending.watchdogPID) == pending.watchdogPID)
    #expect(getsid(pending.watchdogPID) != getsid(cli.process.processIdentifier))
    cli.kill()
    kill(pending.watchdogPID, SIGHUP)
    #expect(try site.listing() != before)
    // The watchdog lives on in its own session and restores generation 1 at the deadline.
    try waitUntil(seconds: 15) { processEnded(pending.watchdogPID) }
    #expect(try site.listing() == before)
    let status = try site.firebreak("status")
    #expect(status.stdout.contains("generation 1:") && status.stdout.contains("state: confirmed"), "\(status.stdout)")
  }

  @Test func confirmedApplyIsKept() throws {
    guard Self.ready else { return }
    let site = try Site()
    defer { site.remove() }
    #expect(try site.firebreak("apply", ["Rules/lab.policy"]).status == 0)
    #expect(try site.firebreak("apply", ["--confirm", "3", "Rules/lab-blocked.policy"]).status == 0)
    let applied = try site.listing()
    let pending = try #require(try StateStore(directory: site.stateDir).state()?.pending)
    let again = try site.firebreak("apply", ["Rules/lab.policy"])
    #expect(again.status == 4, "a pending confirmation blocks the next apply")
    #expect(try site.firebreak("confirm").stdout.contains("confirmed"))
    try waitUntil(seconds: 15) { processEnded(pending.watchdogPID) }
    #expect(try site.listing() == applied)
    #expect(try site.firebreak("status").stdout.contains("generation 2:"))
  }
}

/// A child process the test can read from, kill and wait for.
final class Spawned {
  let process = Process()
  let output = Pipe()
  var collected = ""

  /// Starts argv; with `reading` false its output goes to /dev/null (a pipe nobody reads would
  /// block a chatty child).
  init(_ argv: [String], reading: Bool = true) throws {
    process.executableURL = URL(fileURLWithPath: argv[0])
    process.arguments = Array(argv.dropFirst())
    process.standardOutput = reading ? output : FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
  }

  /// Reads stdout until `text` appears (or the process closes it).
  func waitForOutput(_ text: String) throws {
    while !collected.contains(text) {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { throw TestFailure("the process ended without printing '\(text)': \(collected)") }
      collected += String(decoding: chunk, as: UTF8.self)
    }
  }

  func kill() {
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  func wait() -> Int32 {
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// Polls `condition` until it holds; fails after `seconds`. For events in other processes (a
/// watchdog's exit) that have no channel to wait on.
func waitUntil(seconds: Double, _ condition: () throws -> Bool) throws {
  let deadline = Date().addingTimeInterval(seconds)
  while try !condition() {
    guard Date() < deadline else { throw TestFailure("condition not met within \(seconds) s") }
    usleep(20_000)
  }
}

/// True when `pid` has exited (gone, or a zombie nobody reaped yet).
func processEnded(_ pid: Int32) -> Bool {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
  // The state follows the parenthesised command name: "123 (firebreak) Z ...".
  guard let close = stat.lastIndex(of: ")") else { return true }
  let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
  return state == "Z" || state == "X"
}
