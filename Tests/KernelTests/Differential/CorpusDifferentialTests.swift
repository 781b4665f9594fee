import Foundation
import NetfilterModel
import RulesetImport
import Testing
import VerdictEngine

/// The corpus dumps loaded as they are (`iptables-legacy-restore`) in a scratch router whose
/// interfaces are named as the dump names them, real packets biased to hit the dump's rules, and
/// the engine's answer on the imported dump: the verdict and every rule the packet matched (by
/// table, chain and position, from `iptables-legacy-save -c`) must agree, except where the engine
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
    var agree = 0
    var unknown = 0
    var failures: [String] = []
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

      var request = DifferentialTests().request(c)
      request.packet.inputInterface = setup.inside
      request.packet.outputInterface = c.forward ? setup.outside : nil
      let simulation = try simulator.simulate(request)
      if simulation.verdict == .unknown {
        unknown += 1
        continue
      }
      let engineMatched = Set(
        simulation.trace.filter { $0.matched && $0.index != nil }.map { "\($0.table)/\($0.chain)#\($0.index!)" })
      if (simulation.verdict == .accept) == accepted && engineMatched == kernelMatched {
        agree += 1
      } else {
        failures.append(
          """
          \(DifferentialTests().describe(c)):
            kernel: \(accepted ? "accept" : "not accepted"), matched \(kernelMatched.sorted())
            engine: \(simulation.verdict.rawValue), matched \(engineMatched.sorted())
          """)
      }
    }
    FileHandle.standardError.write(
      Data(
        "corpus differential \(setup.file): \(Self.packetsPerDump) packets, \(agree) agree, \(unknown) unknown, \(failures.count) disagree\n"
          .utf8))
    #expect(failures.isEmpty, "\(failures.count) disagreements; first:\n\(failures.prefix(3).joined(separator: "\n"))")
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
}
