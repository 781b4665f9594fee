import Foundation
import NetfilterModel
import SyntheticRulesets
import Testing
import VerdictEngine

/// The indexed engine must answer exactly as the linear one: verdict, deciding rule and (where
/// traces are compared) the whole trace, for random rulesets of several sizes. 100k packets a
/// run; FIREBREAK_SEED replays one, FIREBREAK_EQUIVALENCE_SCALE multiplies the packet counts.
@Suite struct IndexedEngineTests {
  /// Specific-first rulesets make the linear reference scan far (slow in a debug build); the
  /// random-order ones reach deep jumps and broad early rules.
  static let sizes: [(rules: Int, packets: Int, traced: Int, specificFirst: Bool)] = [
    (100, 65_000, 2_000, true), (1_000, 8_000, 500, false), (1_000, 5_000, 200, true),
    (10_000, 20_000, 50, false), (10_000, 2_000, 20, true),
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
      let started = ContinuousClock.now
      defer {
        FileHandle.standardError.write(
          Data("  \(size.rules) rules (specific first: \(size.specificFirst)): \(ContinuousClock.now - started)\n".utf8)
        )
      }
      let ruleset = generator.ruleset(size: size.rules, specificFirst: size.specificFirst)
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
    let sizes = requests.compactMap { index.candidates(for: $0.packet, hook: .forward)?.count }
    // Most packets consider only a small part of the chain.
    #expect(sizes.count > 150)
    #expect(sizes.sorted()[sizes.count / 2] < forward.rules.count / 4)
  }

  /// Rules after one that matches everything and ends the chain are never candidates, but the
  /// catch-all itself always is (and decides exactly as the linear engine does).
  @Test func rulesAfterACatchAllAreNotIndexed() throws {
    var generator = SyntheticRulesets(seed: 11)
    var ruleset = generator.ruleset(size: 300, specificFirst: false)
    let catchAll = 150
    ruleset.tables[0].chains[0].rules.insert(Rule(verdict: .drop), at: catchAll)
    let index = ChainIndex(chain: ruleset.tables[0].chains[0], table: ruleset.tables[0])
    let linear = Simulator(ruleset: ruleset, engine: .linear)
    let indexed = Simulator(ruleset: ruleset, engine: .indexed)
    for request in generator.packets(2_000, for: ruleset) {
      let candidates = try #require(index.candidates(for: request.packet, hook: .forward))
      #expect(candidates.last == Int32(catchAll))
      #expect(try linear.simulate(request) == indexed.simulate(request))
    }
  }
}
