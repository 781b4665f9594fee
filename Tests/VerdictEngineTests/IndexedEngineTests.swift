import Foundation
import NetfilterModel
import SyntheticRulesets
import Testing
import VerdictEngine

/// The indexed engine must answer exactly as the linear one: verdict, deciding rule and (where
/// traces are compared) the whole trace, for random rulesets of several sizes. 100k packets a
/// run; FIREBREAK_SEED replays one, FIREBREAK_EQUIVALENCE_SCALE multiplies the packet counts.
@Suite struct IndexedEngineTests {
  static let sizes: [(rules: Int, packets: Int, traced: Int)] = [
    (100, 50_000, 2_000), (1_000, 45_000, 500), (10_000, 5_000, 50),
  ]

  @Test func indexedEqualsLinear() throws {
    let seed =
      ProcessInfo.processInfo.environment["FIREBREAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    let scale = ProcessInfo.processInfo.environment["FIREBREAK_EQUIVALENCE_SCALE"].flatMap(Int.init) ?? 1
    FileHandle.standardError.write(Data("indexed engine equivalence: FIREBREAK_SEED=\(seed)\n".utf8))
    var generator = SyntheticRulesets(seed: seed)
    var total = 0
    var differences: [String] = []
    for size in Self.sizes {
      let ruleset = generator.ruleset(size: size.rules)
      let linear = Simulator(ruleset: ruleset, engine: .linear)
      let indexed = Simulator(ruleset: ruleset, engine: .indexed)
      for (n, request) in generator.packets(size.packets * scale, for: ruleset).enumerated() {
        let traced = n < size.traced
        let a = try linear.simulate(request, trace: traced)
        let b = try indexed.simulate(request, trace: traced)
        total += 1
        if a != b, differences.count < 5 {
          differences.append(
            "\(size.rules) rules, packet \(n) \(request.packet.summary): linear \(a.verdict) \(a.decidedBy?.rule ?? "-"), indexed \(b.verdict) \(b.decidedBy?.rule ?? "-")"
          )
        }
      }
    }
    FileHandle.standardError.write(
      Data("indexed engine equivalence: \(total) packets, \(differences.count) differences\n".utf8))
    #expect(total >= 100_000)
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
  }

  @Test func indexSkipsRulesThatCannotMatch() {
    var generator = SyntheticRulesets(seed: 7)
    let ruleset = generator.ruleset(size: 1_000)
    let forward = ruleset.tables[0].chains[0]
    let index = ChainIndex(chain: forward, table: ruleset.tables[0])
    let requests = generator.packets(200, for: ruleset)
    let sizes = requests.compactMap { index.candidates(for: $0.packet)?.count }
    // Most packets consider only a small part of the chain.
    #expect(sizes.count > 150)
    #expect(sizes.sorted()[sizes.count / 2] < forward.rules.count / 4)
  }
}
