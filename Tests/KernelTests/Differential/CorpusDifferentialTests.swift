import Foundation
import NetfilterModel
import RulesetImport
import Testing
import VerdictEngine

/// The corpus dumps loaded as they are (`iptables-legacy-restore`, or `nft -f` for the nft
/// flatshare ruleset) in a scratch router whose interfaces are named as the dump names them, real
/// packets biased to hit the dump's rules, and the engine's answer on the imported dump: the
/// verdict and every rule the packet matched (by table, chain and position, from
/// `iptables-legacy-save -c` or the rules' nft counters) must agree, except where the engine
/// itself says `unknown`.
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct CorpusDifferentialTests {
  struct Setup: CustomTestStringConvertible, Sendable {
    var file: String
    var inside: String
    var outside: String
    var testDescription: String { "\(file) (\(inside) → \(outside))" }
  }

  static let setups = [
    Setup(file: "03_ferm_workstation.iptables-save", inside: "eth0", outside: "eth1"),
    Setup(file: "07_serverfault_765855.iptables-save", inside: "eth2", outside: "eth0"),
    Setup(file: "08_tails_1.5.iptables-save", inside: "eth0", outside: "eth1"),
    Setup(file: "18_openlab_stettenstr.iptables-save", inside: "eth5", outside: "eth4"),
  ]

  static let packetsPerDump = 120

  @Test(arguments: setups)
  func kernelAgreesWithTheEngineOnTheDump(_ setup: Setup) throws {
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + setup.file, encoding: .utf8)
    let imported = IPTablesSaveImporter().importRuleset(text, file: setup.file)
    #expect(imported.errors.isEmpty)
    let simulator = Simulator(ruleset: imported.ruleset)
    let lab = try DifferentialLab(inside: setup.inside, outside: setup.outside, defaultRoute: true)
    defer { lab.remove() }
    _ = try lab.inR(["/usr/sbin/nft", "-f", "-"], input: lab.observer)
    _ = try lab.inR(["/usr/sbin/iptables-legacy-restore"], input: text)

    var rng = SystemRandomNumberGenerator()
    let templates = Self.templates(imported.ruleset)
    var before = try lab.counters(.nft)
    var rulesBefore = try Self.ruleCounters(lab)
    var tally = Tally()
    for n in 0..<Self.packetsPerDump {
      var c = templates[n % templates.count]
      c.sourcePort = UInt16.random(in: 1024...65000, using: &rng)
      c.icmpID = UInt16.random(in: 1...0xfffe, using: &rng)
      if n >= templates.count && c.proto != 1 && Bool.random(using: &rng) {
        c.destinationPort = [22, 23, 53, 80, 113, 443, 1194, 8080].randomElement(using: &rng)!
      }
      let after = try lab.send(DifferentialTests().frame(c, lab), backend: .nft, before: before)
      let accepted = c.forward ? after.lateForward > before.lateForward : after.lateInput > before.lateInput
      before = after
      let rulesAfter = try Self.ruleCounters(lab)
      let kernelMatched = Set(rulesAfter.filter { $0.value > (rulesBefore[$0.key] ?? 0) }.keys)
      rulesBefore = rulesAfter

      let simulation = try simulator.simulate(Self.request(c, inside: setup.inside, outside: setup.outside))
      tally.record(c, simulation, accepted: accepted, kernelMatched: kernelMatched)
    }
    FileHandle.standardError.write(Data("corpus differential \(setup.file): \(tally.summary)\n".utf8))
    #expect(tally.failures.isEmpty, "\(tally.failureReport)")
  }

  /// The engine's request for a lab packet: in on the inside interface, out on the outside one
  /// when forwarded.
  static func request(_ c: DifferentialTests.Case, inside: String, outside: String) -> Simulator.Request {
    var request = DifferentialTests().request(c)
    request.packet.inputInterface = inside
    request.packet.outputInterface = c.forward ? outside : nil
    return request
  }

  /// What the engine said of the packets the kernel judged: agreements, unknowns (the engine's
  /// own "cannot say"), and each disagreement on the verdict or on the rules matched (as
  /// `table/chain#index`), plus every verdict given.
  struct Tally {
    var agree = 0
    var unknown = 0
    var failures: [String] = []
    var verdicts: [String: Int] = [:]

    mutating func record(
      _ c: DifferentialTests.Case, _ simulation: Simulation, accepted: Bool, kernelMatched: Set<String>
    ) {
      verdicts[simulation.verdict.rawValue, default: 0] += 1
      if simulation.verdict == .unknown {
        unknown += 1
        return
      }
      let engineMatched = Set(
        simulation.trace.filter { $0.matched && $0.index != nil }.map { "\($0.table)/\($0.chain)#\($0.index!)" })
      if (simulation.verdict == .accept) == accepted && engineMatched == kernelMatched {
        agree += 1
        return
      }
      failures.append(
        """
        \(DifferentialTests().describe(c)):
          kernel: \(accepted ? "accept" : "not accepted"), matched \(kernelMatched.sorted())
          engine: \(simulation.verdict.rawValue), matched \(engineMatched.sorted())
        """)
    }

    var summary: String {
      "\(agree + unknown + failures.count) packets, \(agree) agree, \(unknown) unknown, \(failures.count) disagree"
    }
    var failureReport: String {
      "\(failures.count) disagreements; first:\n\(failures.prefix(3).joined(separator: "\n"))"
    }
  }

  /// Per-rule packet counters as `table/CHAIN#index`, from `iptables-legacy-save -c`.
  static func ruleCounters(_ lab: DifferentialLab) throws -> [String: Int] {
    var result: [String: Int] = [:]
    var table = ""
    var positions: [String: Int] = [:]
    for line in try lab.inR(["/usr/sbin/iptables-legacy-save", "-c"]).split(separator: "\n") {
      if line.hasPrefix("*") {
        table = String(line.dropFirst())
        positions = [:]
        continue
      }
      guard line.hasPrefix("["), let colon = line.firstIndex(of: ":"),
        let packets = Int(line[line.index(after: line.startIndex)..<colon])
      else { continue }
      let words = line.split(separator: " ")
      guard words.count > 2, words[1] == "-A" else { continue }
      let chain = String(words[2])
      let index = positions[chain, default: 0]
      positions[chain] = index + 1
      result["\(table)/\(chain)#\(index)"] = packets
    }
    return result
  }

  /// One packet per filter rule on INPUT and FORWARD (and the chains they reach), shaped to
  /// satisfy the rule's address, protocol and port tests where the lab can deliver it.
  static func templates(_ ruleset: Ruleset) -> [DifferentialTests.Case] {
    var result: [DifferentialTests.Case] = []
    let lab = DifferentialTests()
    for table in ruleset.tables where table.name == "filter" {
      for chain in table.chains {
        for rule in chain.rules {
          let forward = chain.name == "FORWARD" || (chain.name != "INPUT" && result.count % 2 == 0)
          if chain.name == "OUTPUT" { continue }
          var source = IPAddress("192.0.2.10")!
          var destination = forward ? IPAddress("172.16.1.5")! : IPAddress("10.1.0.1")!
          var proto: UInt8 = [6, 17, 1][result.count % 3]
          var port: UInt16 = 80
          for m in rule.matches where !m.negated {
            switch m.kind {
            case .address(.v4, .source, .single(let e)):
              let (lo, hi) = e.bounds
              let candidate = lo == hi ? lo : (lo.successor ?? lo)
              if lab.usableSource(candidate) { source = candidate }
            case .address(.v4, .destination, .single(let e)) where forward:
              let (lo, hi) = e.bounds
              let candidate = lo == hi ? lo : (lo.successor ?? lo)
              if lab.usableSource(candidate) { destination = candidate }
            case .l4proto(_, .single(let p)) where p == 6 || p == 17 || p == 1:
              proto = p
            case .port(let p, .destination, let op):
              proto = p.number
              if let first = op.inlineElements.first { port = first.first }
            default: continue
            }
          }
          result.append(
            DifferentialTests.Case(
              source: source, destination: destination, proto: proto, sourcePort: 40000, destinationPort: port,
              tcpFlags: 0x02, icmpID: 1, forward: forward))
        }
      }
    }
    return result.isEmpty
      ? [
        DifferentialTests.Case(
          source: IPAddress("192.0.2.10")!, destination: IPAddress("10.1.0.1")!, proto: 6, sourcePort: 40000,
          destinationPort: 22, tcpFlags: 0x02, icmpID: 1, forward: false)
      ] : result
  }

  // MARK: nft

  /// The flatshare router's nft ruleset (`Tests/Corpus/24_ongy_flatshare.nft`): `eth0` inside.
  @Test func kernelAgreesWithTheEngineOnTheNFTFlatshareRuleset() throws {
    let file = "24_ongy_flatshare.nft"
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + file, encoding: .utf8)
    let imported = NFTTextImporter(files: .memory([:])).importRuleset(text, file: file)
    #expect(imported.diagnostics.isEmpty, "\(imported.diagnostics)")
    let simulator = Simulator(ruleset: imported.ruleset)
    let ruleCount = imported.ruleset.tables.flatMap(\.chains).map(\.rules.count).reduce(0, +)
    let lab = try DifferentialLab(inside: "eth0", outside: "eth1", defaultRoute: true)
    defer { lab.remove() }
    _ = try lab.inR(["/usr/sbin/nft", "-f", "-"], input: lab.observer)
    _ = try lab.inR(["/usr/sbin/nft", "-f", "-"], input: try Self.counted(text, imported.ruleset))

    var rng = SystemRandomNumberGenerator()
    let templates = Self.nftTemplates(imported.ruleset)
    let sources = Self.sourceAddresses(imported.ruleset)
    var before = try lab.counters(.nft)
    var rulesBefore = try Self.nftRuleCounters(lab)
    var tally = Tally()
    var rulesHit = Set<String>()
    for n in 0..<Self.packetsPerDump {
      var c = templates[n % templates.count]
      c.sourcePort = UInt16.random(in: 1024...65000, using: &rng)
      c.icmpID = UInt16.random(in: 1...0xfffe, using: &rng)
      // After one pass over the rules, packets that miss them too: other ports and sources.
      if n >= templates.count && c.proto != 1 && Bool.random(using: &rng) {
        c.destinationPort = [22, 25, 80, 143, 443, 465, 993, 5050, 5900, 8080, 8081].randomElement(using: &rng)!
      }
      if n >= templates.count && Int.random(in: 0..<3, using: &rng) == 0 {
        c.source = sources.randomElement(using: &rng)!
      }
      let after = try lab.send(DifferentialTests().frame(c, lab), backend: .nft, before: before)
      let accepted = c.forward ? after.lateForward > before.lateForward : after.lateInput > before.lateInput
      before = after
      let rulesAfter = try Self.nftRuleCounters(lab)
      let kernelMatched = Set(rulesAfter.filter { $0.value > (rulesBefore[$0.key] ?? 0) }.keys)
      rulesBefore = rulesAfter
      rulesHit.formUnion(kernelMatched)

      let simulation = try simulator.simulate(Self.request(c, inside: lab.inside, outside: lab.outside))
      tally.record(c, simulation, accepted: accepted, kernelMatched: kernelMatched)
    }
    let verdicts = tally.verdicts
    FileHandle.standardError.write(
      Data(
        "corpus differential \(file): \(tally.summary) (engine verdicts: \(verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); \(rulesHit.count) of \(ruleCount) rules matched at least once)\n"
          .utf8))
    #expect(Self.packetsPerDump >= 100)
    #expect(tally.failures.isEmpty, "\(tally.failureReport)")
    // Both outcomes were exercised, and most packets were judged (the flatshare has no opaque part).
    #expect((verdicts["accept"] ?? 0) > 10 && (verdicts["reject"] ?? 0) + (verdicts["drop"] ?? 0) > 10, "\(verdicts)")
    #expect(tally.agree >= 100)
    // Every rule was reached by some packet, the NAT ones included.
    let allRules = Set(try Self.nftRuleCounters(lab).keys)
    #expect(allRules.count == ruleCount)
    #expect(rulesHit == allRules, "rules never matched: \(allRules.subtracting(rulesHit).sorted())")
  }

  /// The ruleset as written, with `counter` before the verdict of every rule that has no counter
  /// of its own: the kernel then counts each rule's matches (a counter changes no verdict).
  static func counted(_ text: String, _ ruleset: Ruleset) throws -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) }
    var places: [(line: Int, column: Int)] = []
    for rule in ruleset.tables.flatMap(\.chains).flatMap(\.rules) {
      if rule.statements.contains(where: { $0.kind == .counter }) { continue }
      guard rule.verdict != nil else { throw TestFailure("rule at \(rule.location) has no verdict to count before") }
      places.append((rule.verdictLocation.line, rule.verdictLocation.column))
    }
    for (line, column) in places.sorted(by: { ($0.line, $0.column) > ($1.line, $1.column) }) {
      lines[line - 1].insert(contentsOf: Array("counter ".utf8), at: column - 1)
    }
    return lines.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
  }

  /// Per-rule packet counters as `table/chain#index`, from `nft list ruleset` in R (the observer
  /// table aside).
  static func nftRuleCounters(_ lab: DifferentialLab) throws -> [String: Int] {
    var result: [String: Int] = [:]
    var table = ""
    var chain = ""
    var index = 0
    for line in try lab.inR(["/usr/sbin/nft", "list", "ruleset"]).split(separator: "\n") {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard let first = words.first else { continue }
      switch first {
      case "table":
        table = words.count > 2 ? String(words[2]) : ""
      case "chain":
        chain = words.count > 1 ? String(words[1]) : ""
        index = 0
      case "type", "}":
        continue
      default:
        guard table != "fbobs" else { continue }
        if let packets = DifferentialLab.number(after: "counter packets ", in: String(line)) {
          result["\(table)/\(chain)#\(index)"] = packets
        }
        index += 1
      }
    }
    return result
  }

  /// Sources the ruleset names (each element of its source sets and prefixes) and their
  /// neighbours, where the lab can send from them.
  static func sourceAddresses(_ ruleset: Ruleset) -> [IPAddress] {
    let lab = DifferentialTests()
    return ([IPAddress("192.0.2.10")!] + lab.addresses(ruleset, .source, .v4)).filter(lab.usableSource)
  }

  /// Packets shaped to satisfy each rule (one per element of its address and port sets, up to
  /// six), with what the rule that jumps to its chain requires too: input packets go to R's own
  /// address, the rest is forwarded. Port 9, which no rule names, lets a packet past the rules
  /// before that test ports, so the first pass reaches every rule.
  static func nftTemplates(_ ruleset: Ruleset) -> [DifferentialTests.Case] {
    let lab = DifferentialTests()
    var result: [DifferentialTests.Case] = []
    for table in ruleset.tables {
      var entries: [String: (hook: Hook, matches: [Match])] = [:]
      for chain in table.chains {
        guard let base = chain.base else { continue }
        for rule in chain.rules {
          if let target = rule.verdict?.targetChain, entries[target] == nil {
            entries[target] = (base.hook, rule.matches)
          }
        }
      }
      for chain in table.chains {
        let hook: Hook
        var required: [Match] = []
        if let base = chain.base {
          hook = base.hook
        } else if let entry = entries[chain.name] {
          (hook, required) = entry
        } else {
          continue
        }
        guard hook != .output else { continue }
        for rule in chain.rules {
          let matches = required + rule.matches
          let variants =
            matches.map { m -> Int in
              switch m.kind {
              case .address(_, _, let op): return op.inlineElements.count
              case .port(_, _, let op): return op.inlineElements.count
              default: return 1
              }
            }.max() ?? 1
          for variant in 0..<min(max(variants, 1), 6) {
            var c = DifferentialTests.Case(
              source: IPAddress("192.0.2.10")!, destination: IPAddress("10.1.0.1")!, proto: 6, sourcePort: 40000,
              destinationPort: 9, tcpFlags: 0x02, icmpID: 1, forward: hook != .input)
            if c.forward { c.destination = IPAddress("172.16.1.5")! }
            for m in matches where !m.negated {
              switch m.kind {
              case .address(.v4, let direction, let op):
                let elements = op.inlineElements
                guard !elements.isEmpty else { continue }
                let (lo, hi) = elements[variant % elements.count].bounds
                let address = lo == hi ? lo : (lo.successor ?? lo)
                if direction == .source, lab.usableSource(address) { c.source = address }
                if direction == .destination, c.forward, address.version == .v4 { c.destination = address }
              case .l4proto(_, .single(let p)) where p == 6 || p == 17 || p == 1:
                c.proto = p
              case .port(let p, .destination, let op):
                c.proto = p.number
                let ports = op.inlineElements
                if !ports.isEmpty { c.destinationPort = ports[variant % ports.count].first }
              default: continue
              }
            }
            result.append(c)
          }
        }
      }
    }
    return result
  }
}
