import Foundation
import IPTablesBackend
import IPTablesNative
import Testing
import Topology

/// Prints how long native apply takes against iptables-legacy-restore; asserts nothing about time.
/// Run with `FIREBREAK_MEASURE=1 swift test --filter NativeIPTablesMeasurements`.
@Suite(
  .serialized,
  .enabled(
    if: ProcessInfo.processInfo.environment["FIREBREAK_MEASURE"] == "1" && Kernel.available,
    "set FIREBREAK_MEASURE=1 (root)"))
struct NativeIPTablesMeasurements {
  /// A filter table with `count` rules of the kind the compiler emits.
  static func rules(_ count: Int) -> String {
    var lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for i in 0..<count {
      lines.append(
        "-A INPUT -s 10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)/32 -p tcp -m tcp --dport \(i % 60000 + 1) -m comment --comment \"bench.policy:\(i)\" -j ACCEPT"
      )
    }
    return (lines + ["COMMIT"]).joined(separator: "\n") + "\n"
  }

  static func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times.sorted()[times.count / 2]
  }

  /// `FIREBREAK_MEASURE_SIZES=1000,10000` picks the sizes.
  static let sizes: [Int] =
    ProcessInfo.processInfo.environment["FIREBREAK_MEASURE_SIZES"]?.split(separator: ",").compactMap { Int($0) }
    ?? [1000, 10000, 50000]

  @Test(arguments: sizes)
  func applyAgainstRestore(_ count: Int) throws {
    let text = Self.rules(count)
    let output = IPTablesOutput(ipv4: text, ipv6: nil)
    let ruleset = try IPTRuleset(output)
    let native = try ScratchNamespace("bench")
    defer { native.remove() }
    let tool = try ScratchNamespace("bench")
    defer { tool.remove() }
    let runs = count >= 50000 ? 3 : 5

    let parse = try Self.median(runs) { _ = try IPTRuleset(output) }
    let encode = try Self.median(runs) { _ = try IPTSnapshot(ruleset) }
    let apply = try Self.median(runs) {
      try NetworkNamespace.run(in: native.name) { try IPTablesNative().apply(output) }
    }
    let applyParsed = try Self.median(runs) {
      try NetworkNamespace.run(in: native.name) { try IPTablesNative().apply(ruleset) }
    }
    let restore = try Self.median(runs) { try tool.check(["/usr/sbin/iptables-legacy-restore"], input: text) }
    let snapshot = try NetworkNamespace.run(in: native.name) { try IPTablesNative().snapshot() }
    let snap = try Self.median(runs) {
      _ = try NetworkNamespace.run(in: native.name) { try IPTablesNative().snapshot() }
    }
    let rollback = try Self.median(runs) {
      try NetworkNamespace.run(in: native.name) { try IPTablesNative().restore(snapshot) }
    }
    print(
      String(
        format:
          "IPTABLES-NATIVE %6d rules: parse %8.1f ms | encode %8.1f ms | native apply %8.1f ms (pre-parsed %8.1f) | iptables-legacy-restore %8.1f ms | ratio %.2f | snapshot %8.1f ms | restore %8.1f ms",
        count, parse, encode, apply, applyParsed, restore, apply / restore, snap, rollback))
  }
}
