import Deployment
import Foundation
import SyntheticRulesets
import Testing

/// Applies of a large policy killed with SIGKILL at random moments: the kernel must always hold
/// exactly the old or the new ruleset (never a mix), the state directory must always load, and
/// the next command must recover (record what the kernel holds, with no drift left).
/// `FIREBREAK_FAULTS` sets the number of kills (default 100); `FIREBREAK_SEED` replays a run.
@Suite struct DeploymentFaultTests {
  /// A policy of `count` rules; the two variants differ in every rule's verdict.
  static func policy(_ count: Int, verdict: String) -> String {
    var lines = [
      "table ip filter {", "  chain FORWARD {", "    type filter hook forward priority filter; policy drop;",
    ]
    for i in 0..<count {
      lines.append("    ip saddr 10.\(i / 250).\(i % 250).0/24 tcp dport \(1000 + i % 500) \(verdict)")
    }
    return (lines + ["  }", "}", ""]).joined(separator: "\n")
  }

  @Test func killedAppliesLeaveOldOrNewAndRecover() throws {
    guard DeploymentKernelTests.ready else { return }
    let env = ProcessInfo.processInfo.environment
    let kills = env["FIREBREAK_FAULTS"].flatMap(Int.init) ?? 100
    let seed = env["FIREBREAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    FileHandle.standardError.write(Data("deployment faults: FIREBREAK_SEED=\(seed)\n".utf8))
    var rng = SplitMix64(seed: seed)

    let site = try DeploymentKernelTests.Site()
    defer { site.remove() }
    let dir = NSTemporaryDirectory() + "fbt-faults-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let paths = ["accept", "drop"].map { dir + "/big-\($0).policy" }
    for (path, verdict) in zip(paths, ["accept", "drop"]) {
      try Self.policy(1500, verdict: verdict).write(toFile: path, atomically: true, encoding: .utf8)
    }

    // The two listings, and how long an uninterrupted apply takes (the window to kill in).
    var listings: [String] = []
    var slowest = 0.0
    for path in paths {
      let started = Date()
      #expect(try site.firebreak("apply", [path]).status == 0)
      slowest = max(slowest, Date().timeIntervalSince(started))
      listings.append(try site.listing())
    }
    #expect(listings[0] != listings[1])

    // Kills that left the old ruleset (the transaction had not run) and the new one.
    var (old, new) = (0, 0)
    var holding = 1
    // Where kills land adapts: later after a kill that came before the transaction, earlier after
    // one that came after it, so they concentrate around the moment the kernel changes.
    var window = slowest
    for n in 0..<kills {
      // Always the ruleset the kernel does not hold, so old and new can be told apart.
      let path = paths[1 - holding]
      let apply = try Spawned(
        [DeploymentKernelTests.binary, "apply"] + site.common + ["--wait", "60", path], reading: false)
      // The injected fault: SIGKILL somewhere in the apply's life (or just after it).
      usleep(useconds_t(Double.random(in: 0...window, using: &rng) * 1_000_000))
      apply.kill()
      let live = try site.listing()
      let which = listings.firstIndex(of: live)
      #expect(which != nil, "kill \(n): the kernel holds neither ruleset")
      if let which {
        if which == holding {
          old += 1
          window = min(window * 1.15, slowest * 3)
        } else {
          new += 1
          window *= 0.87
        }
        holding = which
      }
      // The next command recovers: state loads, generations agree with the kernel.
      let status = try site.firebreak("status")
      #expect(status.status == 0, "kill \(n): status \(status.status): \(status.stdout) \(status.stderr)")
      let state = try #require(try StateStore(directory: site.stateDir).state())
      #expect(state.journal == nil)
      #expect(try site.firebreak("history").status == 0)
    }
    FileHandle.standardError.write(
      Data("deployment faults: \(kills) kills: \(old) left the old ruleset, \(new) the new one, never a mix\n".utf8))
    // Both endings happen: some kills land before the transaction, some after.
    #expect(kills < 20 || (old > 0 && new > 0))
  }
}
