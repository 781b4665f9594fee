import Foundation
import NFTablesBackend
import NFTablesNative
import SyntheticRulesets
import Testing
import Topology

/// Prints how long reading and applying through libnftables take beside the `nft` tool and the
/// native libnftnl path; asserts nothing about time. Run with
/// `FIREBREAK_MEASURE=1 swift test --filter LibnftablesMeasurements` (sizes:
/// `FIREBREAK_MEASURE_SIZES=1000,10000`).
@Suite(
  .serialized,
  .enabled(
    if: ProcessInfo.processInfo.environment["FIREBREAK_MEASURE"] == "1" && Kernel.available,
    "set FIREBREAK_MEASURE=1 (root)"))
struct LibnftablesMeasurements {
  @Test(arguments: NativeIPTablesMeasurements.sizes)
  func listAndApplyAgainstNft(_ count: Int) throws {
    var generator = SyntheticRulesets(seed: 7)
    let ruleset = generator.ruleset(size: count)
    let script = try NFTScript().compile(ruleset)
    let ns = try ScratchNamespace("bench")
    defer { ns.remove() }
    let runs = 5
    func inside<T>(_ body: @escaping () throws -> T) throws -> T { try NetworkNamespace.run(in: ns.name, body) }
    func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
      try NativeIPTablesMeasurements.median(runs, body)
    }

    let applyLibrary = try median(runs) { try inside { try Libnftables.apply(script: script) } }
    let applyNative = try median(runs) { _ = try inside { try Connection().apply(ruleset) } }
    let applyTool = try median(runs) { _ = try ns.check(["/usr/sbin/nft", "-f", "-"], input: script) }
    let listLibrary = try median(runs) { _ = try inside { () -> String in try Libnftables.listRuleset() } }
    let listTool = try median(runs) { _ = try ns.check(["/usr/sbin/nft", "list", "ruleset"]) }
    let snapshot = try median(runs) { _ = try inside { () -> NFTSnapshot in try Connection().snapshot() } }
    let exec = try median(runs) { _ = try ns.check(["/bin/true"]) }
    let rules = ruleset.tables.flatMap(\.chains).reduce(0) { $0 + $1.rules.count }
    let listed = try inside { try Libnftables.listRuleset() }
    #expect(listed == (try ns.check(["/usr/sbin/nft", "list", "ruleset"])))
    func ms(_ t: Double) -> String { String(format: "%.1f ms", t) }
    print(
      """
      \(rules) rules (\(listed.utf8.count / 1024) KiB listed), medians of \(runs); the tool's times less `ip netns exec … true` (\(ms(exec))):
        list:  libnftables \(ms(listLibrary)), nft list ruleset \(ms(listTool - exec)), raw libnftnl snapshot \(ms(snapshot))
        apply: libnftables \(ms(applyLibrary)), nft -f \(ms(applyTool - exec)), native libnftnl batch \(ms(applyNative))
      """)
  }
}
